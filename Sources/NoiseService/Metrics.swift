import Synchronization

/// Prometheus metrics: requests by route, method and status; a latency histogram by route;
/// requests in flight; bytes in and out. Routes are the fixed set of endpoints plus
/// "unmatched", so the label sets are bounded.
public final class Metrics: Sendable {
  static let buckets: [Double] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
  ]

  struct Key: Hashable {
    var route: String
    var method: String
    var status: Int
  }

  struct Histogram {
    var counts = [Int](repeating: 0, count: Metrics.buckets.count)
    var sum = 0.0
    var count = 0
  }

  struct State {
    var requests: [Key: Int] = [:]
    var latency: [String: Histogram] = [:]
    var bytesIn = 0
    var bytesOut = 0
    var inFlight = 0
    var deadlineExceeded = 0
  }

  private let state = Mutex(State())
  private let started = ContinuousClock.now

  public init() {}

  public func requestStarted() {
    state.withLock { $0.inFlight += 1 }
  }

  public func requestFinished(
    route: String, method: String, status: Int, seconds: Double, bytesIn: Int, bytesOut: Int
  ) {
    let methodLabel =
      ["GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"].contains(method)
      ? method : "OTHER"
    state.withLock { s in
      s.inFlight -= 1
      s.requests[Key(route: route, method: methodLabel, status: status), default: 0] += 1
      var h = s.latency[route] ?? Histogram()
      for (i, bound) in Metrics.buckets.enumerated() where seconds <= bound { h.counts[i] += 1 }
      h.sum += seconds
      h.count += 1
      s.latency[route] = h
      s.bytesIn += bytesIn
      s.bytesOut += bytesOut
      if status == 503 { s.deadlineExceeded += 1 }
    }
  }

  public var inFlight: Int { state.withLock { $0.inFlight } }

  /// The Prometheus text exposition format, version 0.0.4.
  public func render(connections: Int) -> String {
    let s = state.withLock { $0 }
    var out = ""
    out +=
      "# HELP noise_service_requests_total HTTP requests answered, by route, method and status.\n"
    out += "# TYPE noise_service_requests_total counter\n"
    for (key, value) in s.requests.sorted(by: {
      ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status)
    }) {
      out +=
        "noise_service_requests_total{route=\"\(key.route)\",method=\"\(key.method)\",status=\"\(key.status)\"} \(value)\n"
    }
    out +=
      "# HELP noise_service_request_duration_seconds Time from the request's first byte of body to the response, by route.\n"
    out += "# TYPE noise_service_request_duration_seconds histogram\n"
    for (route, h) in s.latency.sorted(by: { $0.key < $1.key }) {
      for (i, bound) in Metrics.buckets.enumerated() {
        out +=
          "noise_service_request_duration_seconds_bucket{route=\"\(route)\",le=\"\(bound)\"} \(h.counts[i])\n"
      }
      out +=
        "noise_service_request_duration_seconds_bucket{route=\"\(route)\",le=\"+Inf\"} \(h.count)\n"
      out += "noise_service_request_duration_seconds_sum{route=\"\(route)\"} \(h.sum)\n"
      out += "noise_service_request_duration_seconds_count{route=\"\(route)\"} \(h.count)\n"
    }
    out += "# HELP noise_service_requests_in_flight Requests received and not yet answered.\n"
    out += "# TYPE noise_service_requests_in_flight gauge\n"
    out += "noise_service_requests_in_flight \(s.inFlight)\n"
    out += "# HELP noise_service_connections Open client connections.\n"
    out += "# TYPE noise_service_connections gauge\n"
    out += "noise_service_connections \(connections)\n"
    out += "# HELP noise_service_request_bytes_total Request body bytes received.\n"
    out += "# TYPE noise_service_request_bytes_total counter\n"
    out += "noise_service_request_bytes_total \(s.bytesIn)\n"
    out += "# HELP noise_service_response_bytes_total Response body bytes sent.\n"
    out += "# TYPE noise_service_response_bytes_total counter\n"
    out += "noise_service_response_bytes_total \(s.bytesOut)\n"
    out +=
      "# HELP noise_service_unavailable_total Requests answered 503 (deadline passed or at capacity).\n"
    out += "# TYPE noise_service_unavailable_total counter\n"
    out += "noise_service_unavailable_total \(s.deadlineExceeded)\n"
    out += "# HELP noise_service_uptime_seconds Seconds since the service started.\n"
    out += "# TYPE noise_service_uptime_seconds gauge\n"
    let up = ContinuousClock.now - started
    out +=
      "noise_service_uptime_seconds \(Double(up.components.seconds) + Double(up.components.attoseconds) * 1e-18)\n"
    return out
  }
}
