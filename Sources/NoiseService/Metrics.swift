import Synchronization

/// Prometheus metrics: requests by route, method and status; a latency histogram by route;
/// requests in flight; bytes in and out.
///
/// Every series is a lock-free atomic counter in a fixed table: the routes are the service's
/// endpoints plus "unmatched", the methods GET, POST, HEAD and OTHER, the statuses those the
/// service answers plus "other". The label sets cannot grow, and recording a request never
/// waits for another thread.
public final class Metrics: Sendable {
  static let routes = [
    "/noise-matrix", "/noisy-labels", "/validate", "/probabilities", "/balls-into-bins", "/batch",
    "/healthz", "/metrics", "/openapi.yaml", "unmatched",
  ]
  static let methods = ["GET", "POST", "HEAD", "OTHER"]
  static let statuses = [200, 204, 400, 404, 405, 406, 413, 415, 422, 499, 500, 503, 0]
  static let buckets: [Double] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
  ]

  /// One atomic counter (atomics are not copyable, so arrays hold references to them).
  final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ amount: Int, ordering: AtomicUpdateOrdering = .relaxed) {
      value.add(amount, ordering: .relaxed)
    }
    func load(ordering: AtomicLoadOrdering = .relaxed) -> Int { value.load(ordering: .relaxed) }
  }

  private let requests: [Counter]
  private let bucketCounts: [Counter]
  private let latencyCount: [Counter]
  /// Latency sums in microseconds (integral, so they can be atomic).
  private let latencyMicros: [Counter]
  private let bytesIn = Atomic<Int>(0)
  private let bytesOut = Atomic<Int>(0)
  private let inFlightCount = Atomic<Int>(0)
  private let unavailable = Atomic<Int>(0)
  private let receiveTimeouts = Atomic<Int>(0)
  private let started = ContinuousClock.now

  public init() {
    requests = (0..<(Self.routes.count * Self.methods.count * Self.statuses.count)).map { _ in
      Counter()
    }
    bucketCounts = (0..<(Self.routes.count * Self.buckets.count)).map { _ in Counter() }
    latencyCount = Self.routes.map { _ in Counter() }
    latencyMicros = Self.routes.map { _ in Counter() }
  }

  static func index(_ values: [String], _ value: String) -> Int {
    values.firstIndex(of: value) ?? (values.count - 1)
  }

  public func requestStarted() {
    inFlightCount.add(1, ordering: .relaxed)
  }

  public func requestFinished(
    route: String, method: String, status: Int, seconds: Double, bytesIn: Int, bytesOut: Int
  ) {
    let r = Self.index(Self.routes, route)
    let m = Self.index(Self.methods, method)
    let s = Self.statuses.firstIndex(of: status) ?? (Self.statuses.count - 1)
    inFlightCount.subtract(1, ordering: .relaxed)
    requests[(r * Self.methods.count + m) * Self.statuses.count + s].add(1, ordering: .relaxed)
    for (i, bound) in Self.buckets.enumerated() where seconds <= bound {
      bucketCounts[r * Self.buckets.count + i].add(1, ordering: .relaxed)
    }
    latencyCount[r].add(1, ordering: .relaxed)
    latencyMicros[r].add(Int((seconds * 1e6).rounded()), ordering: .relaxed)
    self.bytesIn.add(bytesIn, ordering: .relaxed)
    self.bytesOut.add(bytesOut, ordering: .relaxed)
    if status == 503 { unavailable.add(1, ordering: .relaxed) }
  }

  /// A connection was closed for taking longer than `--receive-timeout` to send a request.
  public func connectionTimedOut() {
    receiveTimeouts.add(1, ordering: .relaxed)
  }

  public var inFlight: Int { inFlightCount.load(ordering: .relaxed) }

  /// The Prometheus text exposition format, version 0.0.4.
  public func render(connections: Int) -> String {
    var out = ""
    out +=
      "# HELP noise_service_requests_total HTTP requests answered, by route, method and status.\n"
    out += "# TYPE noise_service_requests_total counter\n"
    for (r, route) in Self.routes.enumerated() {
      for (m, method) in Self.methods.enumerated() {
        for (s, status) in Self.statuses.enumerated() {
          let value = requests[(r * Self.methods.count + m) * Self.statuses.count + s].load(
            ordering: .relaxed)
          if value == 0 { continue }
          let statusLabel = status == 0 ? "other" : String(status)
          out +=
            "noise_service_requests_total{route=\"\(route)\",method=\"\(method)\",status=\"\(statusLabel)\"} \(value)\n"
        }
      }
    }
    out +=
      "# HELP noise_service_request_duration_seconds Time from a request's headers to its answer, by route.\n"
    out += "# TYPE noise_service_request_duration_seconds histogram\n"
    for (r, route) in Self.routes.enumerated() {
      let count = latencyCount[r].load(ordering: .relaxed)
      if count == 0 { continue }
      for (i, bound) in Self.buckets.enumerated() {
        let value = bucketCounts[r * Self.buckets.count + i].load(ordering: .relaxed)
        out +=
          "noise_service_request_duration_seconds_bucket{route=\"\(route)\",le=\"\(bound)\"} \(value)\n"
      }
      out +=
        "noise_service_request_duration_seconds_bucket{route=\"\(route)\",le=\"+Inf\"} \(count)\n"
      let sum = Double(latencyMicros[r].load(ordering: .relaxed)) / 1e6
      out += "noise_service_request_duration_seconds_sum{route=\"\(route)\"} \(sum)\n"
      out += "noise_service_request_duration_seconds_count{route=\"\(route)\"} \(count)\n"
    }
    out += "# HELP noise_service_requests_in_flight Requests received and not yet answered.\n"
    out += "# TYPE noise_service_requests_in_flight gauge\n"
    out += "noise_service_requests_in_flight \(inFlight)\n"
    out += "# HELP noise_service_connections Open client connections.\n"
    out += "# TYPE noise_service_connections gauge\n"
    out += "noise_service_connections \(connections)\n"
    out += "# HELP noise_service_request_bytes_total Request body bytes received.\n"
    out += "# TYPE noise_service_request_bytes_total counter\n"
    out += "noise_service_request_bytes_total \(bytesIn.load(ordering: .relaxed))\n"
    out += "# HELP noise_service_response_bytes_total Response body bytes sent.\n"
    out += "# TYPE noise_service_response_bytes_total counter\n"
    out += "noise_service_response_bytes_total \(bytesOut.load(ordering: .relaxed))\n"
    out +=
      "# HELP noise_service_unavailable_total Requests answered 503 (deadline passed or at capacity).\n"
    out += "# TYPE noise_service_unavailable_total counter\n"
    out += "noise_service_unavailable_total \(unavailable.load(ordering: .relaxed))\n"
    out +=
      "# HELP noise_service_receive_timeouts_total Connections closed for sending a request too slowly (--receive-timeout).\n"
    out += "# TYPE noise_service_receive_timeouts_total counter\n"
    out += "noise_service_receive_timeouts_total \(receiveTimeouts.load(ordering: .relaxed))\n"
    out += "# HELP noise_service_uptime_seconds Seconds since the service started.\n"
    out += "# TYPE noise_service_uptime_seconds gauge\n"
    let up = ContinuousClock.now - started
    out +=
      "noise_service_uptime_seconds \(Double(up.components.seconds) + Double(up.components.attoseconds) * 1e-18)\n"
    return out
  }
}
