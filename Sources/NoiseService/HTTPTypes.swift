/// An HTTP request as the handlers see it: no sockets, no libmicrohttpd types.
public struct HTTPRequest: Sendable {
  public var method: String
  /// The path without the query string.
  public var path: String
  /// Header names in lower case.
  public var headers: [String: String]
  public var body: RequestBody
  /// For `multipart/form-data` bodies: each part's bytes by field name (the body is then empty).
  public var parts: [String: RequestBody]?

  public init(
    method: String, path: String, headers: [String: String] = [:],
    body: RequestBody = RequestBody(),
    parts: [String: RequestBody]? = nil
  ) {
    self.method = method
    self.path = path
    self.headers = headers
    self.body = body
    self.parts = parts
  }

  /// The request body as bytes; tests build it from strings.
  public init(method: String, path: String, headers: [String: String] = [:], json: String) {
    self.init(method: method, path: path, headers: headers, body: RequestBody(Array(json.utf8)))
  }

  public func header(_ name: String) -> String? { headers[name.lowercased()] }

  /// Whether the client asked for an `.npy` answer.
  public var acceptsNPY: Bool {
    (header("accept") ?? "").lowercased().contains("application/x-npy")
  }

  /// The total size of the body or of its parts.
  public var bodyBytes: Int { parts?.values.reduce(0) { $0 + $1.count } ?? body.count }
}

/// A request body with the zero padding simdjson needs after the last byte.
///
/// The bytes live in one allocation of `count + padding` bytes, so the JSON parser reads them in
/// place and `.npy` arrays can be reinterpreted without copying.
public final class RequestBody: @unchecked Sendable {
  /// Bytes after the body that must be readable (simdjson's requirement).
  public static let padding = 64
  public private(set) var count: Int
  public private(set) var capacity: Int
  public private(set) var base: UnsafeMutableRawPointer

  public init(capacity: Int = 0) {
    self.count = 0
    self.capacity = capacity
    self.base = UnsafeMutableRawPointer.allocate(byteCount: capacity + Self.padding, alignment: 64)
    // Only the padding after the bytes must be zero; the rest is written before it is read, and
    // leaving it untouched spares the page faults of memory that is never used.
    base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.padding)
  }

  public convenience init(_ bytes: [UInt8]) {
    self.init(capacity: bytes.count)
    append(bytes)
  }

  deinit { base.deallocate() }

  /// Appends bytes, growing the buffer geometrically, and keeps the padding after them zero.
  public func append(_ source: UnsafeRawBufferPointer) {
    guard source.count > 0 else { return }
    reserve(count + source.count)
    (base + count).copyMemory(from: source.baseAddress!, byteCount: source.count)
    count += source.count
    (base + count).initializeMemory(as: UInt8.self, repeating: 0, count: Self.padding)
  }

  public func append(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { append($0) }
  }

  func reserve(_ needed: Int) {
    guard needed > capacity else { return }
    let newCapacity = Swift.max(needed, capacity * 2, 4096)
    let grown = UnsafeMutableRawPointer.allocate(
      byteCount: newCapacity + Self.padding, alignment: 64)
    grown.copyMemory(from: base, byteCount: count)
    (grown + count).initializeMemory(as: UInt8.self, repeating: 0, count: Self.padding)
    base.deallocate()
    base = grown
    capacity = newCapacity
  }

  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  /// Frees the bytes now (the body is refused); the buffer is empty afterwards.
  public func release() {
    base.deallocate()
    base = UnsafeMutableRawPointer.allocate(byteCount: Self.padding, alignment: 64)
    base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.padding)
    count = 0
    capacity = 0
  }

  /// A short, printable excerpt of the bytes around `offset`, for error messages.
  public func excerpt(around offset: Int?, radius: Int = 24) -> String {
    guard count > 0 else { return "" }
    let center = Swift.min(Swift.max(offset ?? 0, 0), count)
    let start = Swift.max(center - radius, 0)
    let end = Swift.min(center + radius, count)
    var text = start > 0 ? "…" : ""
    for byte in bytes[start..<end] {
      text.append(byte >= 0x20 && byte < 0x7f ? Character(UnicodeScalar(byte)) : "·")
    }
    if end < count { text += "…" }
    return text
  }
}

/// An HTTP response as the handlers produce it.
public struct HTTPResponse: Sendable {
  public var status: Int
  public var headers: [(String, String)]
  public var body: ResponseBody

  public init(status: Int, headers: [(String, String)] = [], body: ResponseBody) {
    self.status = status
    self.headers = headers
    self.body = body
  }

  public static func json(_ writer: JSONWriter, status: Int = 200) -> HTTPResponse {
    HTTPResponse(
      status: status, headers: [("Content-Type", "application/json")], body: writer.finish())
  }

  public func header(_ name: String) -> String? {
    headers.first { $0.0.lowercased() == name.lowercased() }?.1
  }
}

/// A response body in one `malloc` block, handed to libmicrohttpd without copying (it frees
/// it), or freed here if never sent.
public final class ResponseBody: @unchecked Sendable {
  public private(set) var base: UnsafeMutableRawPointer?
  public let count: Int

  init(taking base: UnsafeMutableRawPointer?, count: Int) {
    self.base = base
    self.count = count
  }

  public convenience init(_ bytes: [UInt8]) {
    let buffer = malloc(Swift.max(bytes.count, 1))!
    bytes.withUnsafeBytes {
      if let source = $0.baseAddress { buffer.copyMemory(from: source, byteCount: bytes.count) }
    }
    self.init(taking: buffer, count: bytes.count)
  }

  public convenience init(_ text: String) { self.init(Array(text.utf8)) }

  /// Gives up ownership of the bytes; the caller frees them.
  func release() -> UnsafeMutableRawPointer? {
    defer { base = nil }
    return base
  }

  public var bytes: [UInt8] {
    guard let base else { return [] }
    return Array(UnsafeRawBufferPointer(start: base, count: count))
  }

  public var text: String { String(decoding: bytes, as: UTF8.self) }

  deinit { free(base) }
}

#if canImport(Glibc)
  import Glibc
#endif
