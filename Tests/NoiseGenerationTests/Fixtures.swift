import Foundation
import Testing

@testable import NoiseGeneration

/// Loads the JSON fixtures written by `Tests/Fixtures/make_fixtures.py` and decodes its encoding:
/// floats as `float.hex()` strings, Python ints as JSON integers, large integer arrays as an
/// FNV-1a 64 hash of their little-endian int64 bytes.
enum Fixtures {
  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

  static let files = [
    "random_state", "python_repr", "numpy_kernels", "noise_matrix_is_valid", "probabilities",
    "balls_into_bins", "noise_matrix_from_trace", "noisy_labels", "cleanlab_tests",
  ]

  static func cases(_ name: String) throws -> [[String: Any]] {
    let data = try Data(contentsOf: directory.appendingPathComponent(name + ".json"))
    let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(document["cleanlab"] as? String == "2.9.0")
    return try #require(document["cases"] as? [[String: Any]])
  }
}

struct FixtureError: Error, CustomStringConvertible {
  var description: String
}

extension Dictionary where Key == String, Value == Any {
  func int(_ key: String) throws -> Int {
    guard let value = self[key] as? NSNumber else {
      throw FixtureError(description: "no int \(key)")
    }
    return value.intValue
  }

  func optionalInt(_ key: String) throws -> Int? {
    if self[key] == nil || self[key] is NSNull { return nil }
    return try int(key)
  }

  func double(_ key: String) throws -> Double {
    guard let value = self[key] else { throw FixtureError(description: "no double \(key)") }
    return try decodeDouble(value)
  }

  func number(_ key: String) throws -> PythonNumber {
    guard let value = self[key] else { throw FixtureError(description: "no number \(key)") }
    return try decodeNumber(value)
  }

  func doubles(_ key: String) throws -> [Double] {
    guard let list = self[key] as? [Any] else { throw FixtureError(description: "no list \(key)") }
    return try list.map(decodeDouble)
  }

  func matrix(_ key: String) throws -> [[Double]] {
    guard let rows = self[key] as? [[Any]] else {
      throw FixtureError(description: "no matrix \(key)")
    }
    return try rows.map { try $0.map(decodeDouble) }
  }

  func string(_ key: String) throws -> String {
    guard let value = self[key] as? String else {
      throw FixtureError(description: "no string \(key)")
    }
    return value
  }

  var error: [String: Any]? { self["error"] as? [String: Any] }
}

/// A Python float written by `float.hex()`, or a JSON number.
func decodeDouble(_ value: Any) throws -> Double {
  if let text = value as? String, let d = Double(text) { return d }
  if let number = value as? NSNumber { return number.doubleValue }
  throw FixtureError(description: "not a double: \(value)")
}

/// A JSON integer is a Python int; a hex string is a Python float.
func decodeNumber(_ value: Any) throws -> PythonNumber {
  if let text = value as? String { return .float(try decodeDouble(text)) }
  if let number = value as? NSNumber { return .int(number.intValue) }
  throw FixtureError(description: "not a number: \(value)")
}

/// FNV-1a 64 over the little-endian int64 bytes, as the fixture script computes it.
func fnv64<T: BinaryInteger>(_ values: some Sequence<T>) -> String {
  var hash: UInt64 = 0xcbf2_9ce4_8422_2325
  for value in values {
    var word = UInt64(bitPattern: Int64(value))
    for _ in 0..<8 {
      hash ^= word & 0xff
      hash = hash &* 0x100_0000_01b3
      word >>= 8
    }
  }
  return String(hash, radix: 16).leftPadded(to: 16)
}

extension String {
  func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}

/// Checks an integer array against a fixture value: a list, or `{"fnv64", "count"}`.
func expectIntegers<T: BinaryInteger>(
  _ actual: [T], _ expected: Any?, _ context: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  if let list = expected as? [NSNumber] {
    #expect(
      actual.map { Int64($0) } == list.map { $0.int64Value }, "\(context)",
      sourceLocation: sourceLocation)
  } else if let hashed = expected as? [String: Any] {
    #expect(
      actual.count == (hashed["count"] as? Int), "\(context): count", sourceLocation: sourceLocation
    )
    #expect(
      fnv64(actual) == hashed["fnv64"] as? String, "\(context): fnv64",
      sourceLocation: sourceLocation)
  } else {
    Issue.record("\(context): fixture holds no integers", sourceLocation: sourceLocation)
  }
}

/// Bitwise equality of two double arrays.
func expectBits(
  _ actual: [Double], _ expected: [Double], _ context: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    actual.map(\.bitPattern) == expected.map(\.bitPattern),
    "\(context): \(actual) != \(expected)", sourceLocation: sourceLocation)
}

/// What a fixture's recorded error requires of the library's thrown error.
func expectMatchingError(
  _ error: any Error, _ recorded: [String: Any], _ context: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  guard let thrown = error as? NoiseGenerationError else {
    Issue.record("\(context): not a NoiseGenerationError: \(error)", sourceLocation: sourceLocation)
    return
  }
  let kind = recorded["kind"] as? String
  let message = recorded["message"] as? String
  switch kind {
  case "cleanlab":
    guard case .cleanlab = thrown else {
      Issue.record(
        "\(context): expected cleanlab's ValueError, got \(thrown)", sourceLocation: sourceLocation)
      return
    }
    #expect(thrown.message == message, "\(context)", sourceLocation: sourceLocation)
  case "numpy":
    // numpy's own messages are reproduced where the library raises the same error; the other
    // numpy failures (broadcasting, shapes) become typed shape errors.
    switch thrown {
    case .numpy(let text): #expect(text == message, "\(context)", sourceLocation: sourceLocation)
    case .shapeMismatch, .invalidArgument: break
    default:
      Issue.record(
        "\(context): unexpected \(thrown) for numpy's \(message ?? "")",
        sourceLocation: sourceLocation)
    }
  default:
    // crashes (ZeroDivisionError, OverflowError) and hangs: any typed error but cleanlab's
    if case .cleanlab = thrown {
      Issue.record(
        "\(context): cleanlab raised \(message ?? ""), library claims \(thrown)",
        sourceLocation: sourceLocation)
    }
  }
}
