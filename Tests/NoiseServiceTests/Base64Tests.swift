import Foundation
import Testing

@testable import NoiseService

@Suite("Base64")
struct Base64Tests {
  static func encoded(_ bytes: [UInt8]) -> String {
    var writer = JSONWriter()
    bytes.withUnsafeBytes { Base64.encode($0, into: &writer) }
    defer { writer.discard() }
    return String(decoding: writer.bytes, as: UTF8.self)
  }

  @Test("encode and decode agree with Foundation for every length up to 200")
  func agreesWithFoundation() {
    var generator = SystemRandomNumberGenerator()
    for length in 0...200 {
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
      let text = Self.encoded(bytes)
      #expect(text == Data(bytes).base64EncodedString(), "length \(length)")
      #expect(Base64.decode(text) == bytes, "length \(length)")
    }
  }

  @Test(
    "malformed text is nil",
    arguments: [
      "A", "AB", "ABC", "ABCDE", "====", "A===", "AB=C", "A=BC", "AB==CDEF", "ABC*", "AB\u{e9}C",
      "ABC ", "\nABC", "ABCD====",
    ])
  func rejects(text: String) {
    #expect(Base64.decode(text) == nil)
  }

  @Test("padding: xx== gives one byte, xxx= two, and the empty text none")
  func padding() {
    #expect(Base64.decode("") == [])
    #expect(Base64.decode("/w==") == [0xff])
    #expect(Base64.decode("//8=") == [0xff, 0xff])
    #expect(Base64.decode("////") == [0xff, 0xff, 0xff])
  }
}
