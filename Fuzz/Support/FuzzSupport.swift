// Shared by the libFuzzer targets: each target feeds its input to one entry point and checks
// that whatever comes back is well formed. A crash, a trap, a hang (libFuzzer's -timeout) or an
// AddressSanitizer report is a finding.
import Glibc
import NoiseGeneration
import NoiseService

public enum FuzzSupport {
  /// A service with a short deadline, so that inputs asking for long computations end quickly.
  public static let service: Service = {
    var configuration = ServerConfiguration()
    configuration.requestTimeout = 0.25
    configuration.maxClasses = 200
    configuration.maxArrayLength = 10_000
    configuration.logRequests = false
    return try! Service(configuration: configuration)
  }()

  static let allowed: Set<Int> = [200, 400, 404, 413, 422, 503]

  /// POSTs the bytes to `path` and checks the answer.
  public static func post(
    _ path: String, _ data: UnsafePointer<UInt8>?, _ size: Int, headers: [String: String] = [:]
  ) -> Int32 {
    let body = RequestBody(capacity: size)
    if let data, size > 0 { body.append(UnsafeRawBufferPointer(start: data, count: size)) }
    check(
      service.respond(to: HTTPRequest(method: "POST", path: path, headers: headers, body: body))
        .response)
    return 0
  }

  /// POSTs multipart parts (already split) to /noisy-labels.
  public static func postParts(_ parts: [String: [UInt8]], npyAnswer: Bool) -> Int32 {
    var bodies: [String: RequestBody] = [:]
    for (name, bytes) in parts { bodies[name] = RequestBody(bytes) }
    let headers = npyAnswer ? ["accept": "application/x-npy"] : [:]
    check(
      service.respond(
        to: HTTPRequest(method: "POST", path: "/noisy-labels", headers: headers, parts: bodies)
      ).response)
    return 0
  }

  static func check(_ response: HTTPResponse) {
    guard allowed.contains(response.status) else {
      fatalError("unexpected status \(response.status): \(response.body.text.prefix(300))")
    }
    let type = response.header("Content-Type") ?? ""
    if response.status != 200 {
      guard type == "application/problem+json" else { fatalError("an error without problem+json") }
    }
    if type.hasPrefix("application/json") || type == "application/problem+json" {
      let text = response.body.bytes
      guard text.first == UInt8(ascii: "{"), text.last == UInt8(ascii: "}") else {
        fatalError("a JSON answer that is not an object: \(response.body.text.prefix(200))")
      }
    }
  }

  /// A little-endian reader over the fuzz input, for deriving arguments.
  public struct Bytes {
    var data: UnsafeBufferPointer<UInt8>
    var position = 0
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
      self.data = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    }
    public var isEmpty: Bool { position >= data.count }
    public mutating func byte() -> UInt8 {
      defer { position += 1 }
      return position < data.count ? data[position] : 0
    }
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
      var value: UInt64 = 0
      for _ in 0..<4 { value = value << 8 | UInt64(byte()) }
      let width = UInt64(range.upperBound - range.lowerBound) + 1
      return range.lowerBound + Int(value % width)
    }
    public mutating func double() -> Double {
      switch byte() % 8 {
      case 0: return [Double.nan, .infinity, -.infinity, -0.0, 0, 1, -1, 1e300][Int(byte() % 8)]
      case 1: return Double(int(-5...5))
      default:
        var bits: UInt64 = 0
        for _ in 0..<8 { bits = bits << 8 | UInt64(byte()) }
        let d = Double(bitPattern: bits)
        return byte() % 2 == 0 ? d : Double(int(0...1_000_000)) / 250_000
      }
    }
    public mutating func rest() -> [UInt8] {
      defer { position = data.count }
      return position < data.count ? Array(data[position...]) : []
    }
  }
}
