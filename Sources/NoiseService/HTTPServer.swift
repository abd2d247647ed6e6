import CMicroHTTPD
import Glibc
import Synchronization

/// The HTTP server over libmicrohttpd: the only file that touches its types.
///
/// libmicrohttpd runs one thread per connection (bounded by `--max-connections`), so a request
/// computing for seconds never delays another connection's `/healthz`; the number of requests
/// computing at once is bounded separately by the service's compute slots (`--threads`). The
/// access handler collects the body into a padded buffer, refusing it with 413 as soon as its
/// size is known to exceed `--max-body-bytes` (from `Content-Length` before reading, or by
/// counting chunked bytes), and with 503 when the bodies held by all connections would exceed
/// `--max-inflight-bytes`. When the body is complete it calls the service and queues the answer.
///
/// C callbacks are `@convention(c)` functions in nonisolated code that recover the server and the
/// per-request state through `Unmanaged` pointers.
public final class HTTPServer: @unchecked Sendable {
  public let service: Service
  private var daemon: OpaquePointer?
  /// The port actually bound (useful with `--port 0`).
  public private(set) var port = 0
  private let inFlight = Atomic<Int>(0)
  private let stopping = Atomic<Bool>(false)
  /// Closes connections that take longer than `--receive-timeout` to send a request.
  private let receiveDeadline: ReceiveDeadline?

  public init(service: Service) {
    self.service = service
    let timeout = service.configuration.receiveTimeout
    let metrics = service.metrics
    receiveDeadline =
      timeout > 0
      ? ReceiveDeadline(timeout: .milliseconds(Int64((timeout * 1000).rounded()))) { socket in
        // libmicrohttpd's connection thread sees the end and closes the connection itself
        _ = Glibc.shutdown(socket, Int32(SHUT_RDWR))
        metrics.connectionTimedOut()
      } : nil
    service.countConnections { [weak self] in self?.connections ?? 0 }
  }

  deinit {
    if let daemon { MHD_stop_daemon(daemon) }
    receiveDeadline?.stop()
  }

  /// Binds and starts serving.
  public func start() throws(ServerError) {
    let configuration = service.configuration
    var message = [CChar](repeating: 0, count: 256)
    let started: OpaquePointer? = configuration.host.withCString { host in
      var options = CMicroHTTPD_Options(
        host: host, port: UInt16(configuration.port),
        connection_limit: UInt32(configuration.maxConnections),
        connection_timeout: UInt32(configuration.idleTimeout),
        thread_stack_size: 1 << 20, connection_memory_limit: 64 << 10, listen_backlog: 1024)
      let context = Unmanaged.passUnretained(self).toOpaque()
      return CMicroHTTPD_start(
        &options, accessHandler, context, completedHandler, context,
        receiveDeadline == nil ? nil : connectionNotifier, context, &message, message.count)
    }
    guard let started else {
      throw ServerError(
        String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    daemon = started
    port = Int(CMicroHTTPD_bound_port(started))
    receiveDeadline?.start()
  }

  /// Open connections.
  public var connections: Int {
    guard let daemon else { return 0 }
    return Int(CMicroHTTPD_current_connections(daemon))
  }

  /// Requests received and not yet answered.
  public var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }

  /// Stops accepting connections, lets requests in flight finish for up to `grace`, then stops.
  /// Returns whether every request in flight finished.
  @discardableResult
  public func shutdown(grace: Duration) -> Bool {
    guard let daemon else { return true }
    stopping.store(true, ordering: .relaxed)
    let listener = MHD_quiesce_daemon(daemon)
    if listener >= 0 {
      // stop the kernel from completing new handshakes on the listening socket
      Glibc.shutdown(listener, Int32(SHUT_RDWR))
    }
    let deadline = ContinuousClock.now + grace
    var drained = inFlight.load(ordering: .relaxed) == 0
    while !drained && ContinuousClock.now < deadline {
      usleep(5_000)
      drained = inFlight.load(ordering: .relaxed) == 0
    }
    MHD_stop_daemon(daemon)
    self.daemon = nil
    receiveDeadline?.stop()
    if listener >= 0 { close(listener) }
    return drained
  }

  // MARK: per-request handling (called on connection threads)

  fileprivate func handle(
    connection: OpaquePointer, url: String, method: String, upload: UnsafePointer<CChar>?,
    uploadSize: UnsafeMutablePointer<Int>, state: UnsafeMutablePointer<UnsafeMutableRawPointer?>
  ) -> MHD_Result {
    guard let existing = state.pointee else {
      // headers are complete: decide what can be decided before reading the body
      let exchange = Exchange(method: method, url: url, connection: connection)
      state.pointee = Unmanaged.passRetained(exchange).toOpaque()
      inFlight.add(1, ordering: .relaxed)
      service.metrics.requestStarted()
      let configuration = service.configuration
      if method == "POST",
        (exchange.headers["content-type"] ?? "").lowercased().hasPrefix("multipart/form-data")
      {
        // multipart bodies (the .npy form of /noisy-labels) go through libmicrohttpd's
        // post processor, which hands over each part's bytes as they arrive
        guard
          let processor = MHD_create_post_processor(
            connection, 64 << 10, postIterator, Unmanaged.passUnretained(exchange).toOpaque())
        else {
          return queue(
            Problem.malformed("the multipart/form-data Content-Type has no usable boundary")
              .response(),
            exchange, connection)
        }
        exchange.postProcessor = processor
        exchange.parts = [:]
      }
      if let length = exchange.headers["content-length"] {
        guard let declared = Int(length), declared >= 0 else {
          return queue(
            Problem.malformed("Content-Length is not a number").response(), exchange, connection)
        }
        if declared > configuration.maxBodyBytes {
          return queue(
            Problem.tooLarge(
              "Content-Length \(declared) exceeds the limit of \(configuration.maxBodyBytes) bytes (--max-body-bytes); the body was not read"
            ).response(), exchange, connection)
        }
        if declared > 0 {
          guard service.budget.reserve(declared) else {
            return queue(
              Problem.busy("the server holds too many request bodies right now; retry shortly")
                .response(
                  headers: [("Retry-After", "1")]), exchange, connection)
          }
          exchange.reserved = declared
          exchange.expectedBytes = declared
          if exchange.postProcessor == nil { exchange.body.reserve(declared) }
        }
      }
      return .YES
    }
    let exchange = Unmanaged<Exchange>.fromOpaque(existing).takeUnretainedValue()
    let size = uploadSize.pointee
    if size > 0 {
      uploadSize.pointee = 0
      if let refusal = exchange.refusal {
        // Past the limit the rest of the body is read and dropped, so that the client gets the
        // 413 once it has finished sending, but only up to a bound: a client that keeps
        // sending has its connection closed.
        exchange.discarded += size
        if exchange.discarded > Swift.min(service.configuration.maxBodyBytes, 16 << 20) {
          _ = refusal
          return .NO
        }
        return .YES
      }
      let limit = service.configuration.maxBodyBytes
      let total = exchange.received + size
      if total > limit || (total > exchange.reserved && !extendReservation(exchange, to: total)) {
        exchange.refusal =
          total > limit
          ? Problem.tooLarge(
            "the chunked body passed the limit of \(limit) bytes (--max-body-bytes)")
          : Problem.busy("the server holds too many request bodies right now; retry shortly")
        exchange.discarded = size
        exchange.body.release()
        exchange.releaseParts()
        if exchange.reserved > 0 {
          service.budget.release(exchange.reserved)
          exchange.reserved = 0
        }
        return .YES
      }
      exchange.received = total
      exchange.bytesIn = total
      if let processor = exchange.postProcessor {
        if MHD_post_process(processor, upload, size) == .NO || exchange.partError != nil {
          exchange.refusal = Problem.malformed(
            exchange.partError ?? "the multipart/form-data body is malformed")
          exchange.discarded = 0
          exchange.releaseParts()
        }
        return .YES
      }
      exchange.body.append(UnsafeRawBufferPointer(start: upload, count: size))
      return .YES
    }
    if let processor = exchange.postProcessor {
      exchange.postProcessor = nil
      if MHD_destroy_post_processor(processor) == .NO && exchange.refusal == nil {
        exchange.refusal = Problem.malformed(
          "the multipart/form-data body ends before its closing boundary")
      }
    }
    if let refusal = exchange.refusal {
      return queue(refusal.response(), exchange, connection)
    }
    // the whole body has arrived
    receiveDeadline?.received(connectionID(connection))
    let request = HTTPRequest(
      method: exchange.method, path: exchange.path, headers: exchange.headers, body: exchange.body,
      parts: exchange.parts)
    let (response, route) = service.respond(to: request)
    exchange.route = route
    return queue(response, exchange, connection)
  }

  /// The receive-deadline registration of a connection (0 when there is none).
  private func connectionID(_ connection: OpaquePointer) -> Int {
    Int(bitPattern: CMicroHTTPD_socket_context(connection))
  }

  fileprivate func connection(
    _ connection: OpaquePointer, _ socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
    opened: Bool
  ) {
    guard let receiveDeadline else { return }
    if opened {
      let id = receiveDeadline.opened(socket: CMicroHTTPD_connection_fd(connection))
      socketContext.pointee = UnsafeMutableRawPointer(bitPattern: id)
    } else {
      receiveDeadline.closed(Int(bitPattern: socketContext.pointee))
      socketContext.pointee = nil
    }
  }

  private func extendReservation(_ exchange: Exchange, to total: Int) -> Bool {
    // chunked bodies reserve in 1 MiB steps
    let target = Swift.min(
      Swift.max(total, exchange.reserved + (1 << 20)), service.configuration.maxBodyBytes)
    guard service.budget.reserve(target - exchange.reserved) else { return false }
    exchange.reserved = target
    return true
  }

  private func queue(_ response: HTTPResponse, _ exchange: Exchange, _ connection: OpaquePointer)
    -> MHD_Result
  {
    exchange.status = response.status
    exchange.bytesOut = response.body.count
    receiveDeadline?.received(connectionID(connection))
    let size = response.body.count
    guard let buffer = response.body.release() ?? malloc(1) else { return .NO }
    guard let mhdResponse = CMicroHTTPD_response_from_malloc(size, buffer) else {
      free(buffer)
      return .NO
    }
    for (name, value) in response.headers {
      MHD_add_response_header(mhdResponse, name, value)
    }
    if stopping.load(ordering: .relaxed) {
      MHD_add_response_header(mhdResponse, "Connection", "close")
    }
    let result = MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    MHD_destroy_response(mhdResponse)
    return result
  }

  fileprivate func completed(
    _ connection: OpaquePointer?, _ state: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    terminated: Bool
  ) {
    if let connection { receiveDeadline?.answered(connectionID(connection)) }
    guard let state, let opaque = state.pointee else { return }
    state.pointee = nil
    let exchange = Unmanaged<Exchange>.fromOpaque(opaque).takeRetainedValue()
    if let processor = exchange.postProcessor {
      _ = MHD_destroy_post_processor(processor)
      exchange.postProcessor = nil
    }
    if exchange.reserved > 0 { service.budget.release(exchange.reserved) }
    let elapsed = ContinuousClock.now - exchange.started
    let seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    // a request whose client went away before an answer was queued is logged as 499
    let status = exchange.status == 0 ? 499 : exchange.status
    service.metrics.requestFinished(
      route: exchange.route ?? service.router.label(for: exchange.path), method: exchange.method,
      status: status, seconds: seconds, bytesIn: exchange.bytesIn,
      bytesOut: terminated && exchange.status == 0 ? 0 : exchange.bytesOut)
    if service.configuration.logRequests {
      Log.write([
        ("method", .string(String(exchange.method.prefix(16)))),
        ("path", .string(String(exchange.path.prefix(200)))),
        ("status", .int(status)),
        ("bytes_in", .int(exchange.bytesIn)),
        ("bytes_out", .int(exchange.bytesOut)),
        ("duration_ms", .double((seconds * 1e6).rounded() / 1e3)),
      ])
    }
    inFlight.subtract(1, ordering: .relaxed)
  }
}

/// A start-up failure (address in use, bad host).
public struct ServerError: Error, CustomStringConvertible, Sendable {
  public var description: String
  init(_ description: String) { self.description = description }
}

/// The state of one request between libmicrohttpd's calls.
private final class Exchange {
  let method: String
  let path: String
  let started = ContinuousClock.now
  var headers: [String: String] = [:]
  let body = RequestBody()
  var reserved = 0
  /// Set when the body went past a limit while arriving: the answer once it has ended.
  var refusal: Problem?
  var discarded = 0
  /// Body bytes received so far (for multipart bodies, the raw bytes, not the parts).
  var received = 0
  var postProcessor: OpaquePointer?
  var parts: [String: RequestBody]?
  var partError: String?
  /// The declared body size, used to size multipart parts up front.
  var expectedBytes = 0
  var status = 0
  var bytesIn = 0
  var bytesOut = 0
  var route: String?

  /// The headers the service looks at.
  static let headerNames = [
    "content-length", "content-type", "accept", "transfer-encoding", "content-encoding",
    "x-array-encoding",
  ]

  static let maxParts = 8

  func releaseParts() {
    for part in parts?.values ?? [:].values { part.release() }
    parts = parts == nil ? nil : [:]
  }

  /// A chunk of a multipart part from libmicrohttpd's post processor.
  func receive(part key: String, data: UnsafeRawBufferPointer) -> Bool {
    guard partError == nil, parts != nil else { return false }
    if parts![key] == nil {
      guard parts!.count < Exchange.maxParts else {
        partError = "the multipart body has more than \(Exchange.maxParts) parts"
        return false
      }
      // sized for the whole body: pages that stay unused cost nothing, copies on growth would
      parts![key] = RequestBody(capacity: Swift.max(data.count, expectedBytes, 4096))
    }
    parts![key]!.append(data)
    return true
  }

  init(method: String, url: String, connection: OpaquePointer) {
    self.method = method
    self.path = String(url.prefix { $0 != "?" })
    for name in Exchange.headerNames {
      if let value = CMicroHTTPD_header(connection, name) {
        headers[name] = String(cString: value)
      }
    }
  }
}

private let accessHandler: MHD_AccessHandlerCallback = {
  cls, connection, url, method, _, upload, uploadSize, state in
  guard let cls, let connection, let uploadSize, let state else { return .NO }
  let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
  return server.handle(
    connection: connection, url: url.map { String(cString: $0) } ?? "/",
    method: method.map { String(cString: $0) } ?? "GET", upload: upload,
    uploadSize: uploadSize, state: state)
}

private let completedHandler: MHD_RequestCompletedCallback = {
  cls, connection, state, termination in
  guard let cls else { return }
  let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
  server.completed(connection, state, terminated: termination.rawValue != 0)
}

/// Connections opening and closing, for the receive deadline: the registration is kept in the
/// connection's socket context. libmicrohttpd reports the close before it closes the socket.
private let connectionNotifier: MHD_NotifyConnectionCallback = {
  cls, connection, socketContext, code in
  guard let cls, let connection, let socketContext else { return }
  let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
  server.connection(connection, socketContext, opened: code.rawValue == 0)
}

private let postIterator: MHD_PostDataIterator = {
  cls, _, key, _, _, _, data, _, size in
  guard let cls else { return .NO }
  let exchange = Unmanaged<Exchange>.fromOpaque(cls).takeUnretainedValue()
  let name = key.map { String(cString: $0) } ?? ""
  guard size > 0 else {
    // an empty part still exists
    return exchange.receive(part: name, data: UnsafeRawBufferPointer(start: nil, count: 0))
      ? .YES : .NO
  }
  return exchange.receive(part: name, data: UnsafeRawBufferPointer(start: data, count: size))
    ? .YES : .NO
}
