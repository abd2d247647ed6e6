import Foundation
import Glibc
import Testing

@testable import NoiseService

/// A configuration for tests: ephemeral port, loopback, quiet.
func testConfiguration(_ change: (inout ServerConfiguration) -> Void = { _ in })
  -> ServerConfiguration
{
  var c = ServerConfiguration()
  c.host = "127.0.0.1"
  c.port = 0
  c.logRequests = false
  change(&c)
  return c
}

func json(_ response: HTTPResponse) throws -> [String: Any] {
  try parseJSON(response.body.bytes)
}

/// Parses JSON with JSONDecoder, whose number parsing is correctly rounded; Foundation's
/// JSONSerialization on Linux is not (0.6247347284911015 comes back as ...016).
func parseJSON(_ bytes: [UInt8]) throws -> [String: Any] {
  let value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
  return try #require(value.any as? [String: Any])
}

enum JSONValue: Decodable {
  case object([String: JSONValue])
  case array([JSONValue])
  case int(Int)
  case double(Double)
  case string(String)
  case bool(Bool)
  case null

  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let b = try? container.decode(Bool.self) {
      self = .bool(b)
    } else if let i = try? container.decode(Int.self) {
      self = .int(i)
    } else if let d = try? container.decode(Double.self) {
      self = .double(d)
    } else if let s = try? container.decode(String.self) {
      self = .string(s)
    } else if let a = try? container.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  var any: Any {
    switch self {
    case .object(let o): return o.mapValues(\.any)
    case .array(let a):
      // arrays of numbers become [Double] (or [Int] when all are integers), as the tests compare
      if a.allSatisfy({ if case .int = $0 { return true } else { return false } }) {
        return a.map { if case .int(let i) = $0 { return i } else { return 0 } }
      }
      if a.allSatisfy({
        if case .int = $0 { return true }
        if case .double = $0 { return true }
        return false
      }) {
        return a.map { value -> Double in
          switch value {
          case .int(let i): return Double(i)
          case .double(let d): return d
          default: return 0
          }
        }
      }
      return a.map(\.any)
    case .int(let i): return i
    case .double(let d): return d
    case .string(let s): return s
    case .bool(let b): return b
    case .null: return NSNull()
    }
  }
}

func post(
  _ path: String, _ body: String, _ configuration: ServerConfiguration = testConfiguration()
) throws
  -> HTTPResponse
{
  let service = try Service(configuration: configuration)
  return service.respond(to: HTTPRequest(method: "POST", path: path, json: body)).response
}

/// A minimal HTTP/1.1 client over a blocking socket, with keep-alive, for the server tests.
final class TestHTTPClient {
  let fd: Int32
  private var buffer: [UInt8] = []

  init(port: Int) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    if result != 0 { throw TestError("connect failed: \(errno)") }
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }

  deinit { close(fd) }

  struct Response {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] { try parseJSON(body) }
  }

  func sendRaw(_ bytes: [UInt8]) throws {
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBytes {
        send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      if n <= 0 { throw TestError("send failed: \(errno)") }
      sent += n
    }
  }

  func request(
    _ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]
  )
    throws -> Response
  {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    let payload = Array((body ?? "").utf8)
    if body != nil && headers["Transfer-Encoding"] == nil {
      head += "Content-Length: \(payload.count)\r\n"
    }
    head += "\r\n"
    try sendRaw(Array(head.utf8) + payload)
    return try readResponse()
  }

  private func fill() throws {
    var chunk = [UInt8](repeating: 0, count: 65536)
    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    if n <= 0 { throw TestError("connection closed or timed out (\(n), errno \(errno))") }
    buffer += chunk[0..<n]
  }

  func readResponse() throws -> Response {
    let separator: [UInt8] = [13, 10, 13, 10]
    var headerEnd: Int?
    while headerEnd == nil {
      if buffer.count >= 4 {
        for i in 0...(buffer.count - 4) where Array(buffer[i..<(i + 4)]) == separator {
          headerEnd = i
          break
        }
      }
      if headerEnd == nil { try fill() }
    }
    let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
    buffer.removeFirst(headerEnd! + 4)
    var lines = head.components(separatedBy: "\r\n")
    let status = Int(lines.removeFirst().split(separator: " ")[1])!
    var headers: [String: String] = [:]
    for line in lines {
      if let colon = line.firstIndex(of: ":") {
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
          in: .whitespaces)
      }
    }
    let length = Int(headers["content-length"] ?? "0") ?? 0
    while buffer.count < length { try fill() }
    let body = Array(buffer[0..<length])
    buffer.removeFirst(length)
    return Response(status: status, headers: headers, body: body)
  }
}

struct TestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// A running in-process server for a test.
func withServer<T>(
  _ configuration: ServerConfiguration = testConfiguration(), _ body: (HTTPServer) throws -> T
) throws -> T {
  let service = try Service(configuration: configuration)
  let server = HTTPServer(service: service)
  try server.start()
  defer { server.shutdown(grace: .seconds(5)) }
  return try body(server)
}
