/// A handler: request and context in, response out, or a problem.
public typealias Handler = @Sendable (HTTPRequest, RequestContext) throws(Problem) -> HTTPResponse

/// One endpoint: a method and path, and whether its work is computation that must wait for a
/// compute slot (the POST endpoints) or is answered at once (health, metrics, the spec).
public struct Route: Sendable {
  public var method: String
  public var path: String
  public var computes: Bool
  public var handler: Handler
}

/// Matches method and path to a route, or says why not (404, or 405 with the allowed methods).
public struct Router: Sendable {
  public enum Match {
    case route(Route)
    case methodNotAllowed(allowed: [String])
    case notFound
  }

  public let routes: [Route]

  public init(routes: [Route]) { self.routes = routes }

  public func match(method: String, path: String) -> Match {
    let candidates = routes.filter { $0.path == path }
    if candidates.isEmpty { return .notFound }
    if let route = candidates.first(where: { $0.method == method }) { return .route(route) }
    if method == "HEAD", let get = candidates.first(where: { $0.method == "GET" }) {
      return .route(get)
    }
    var allowed = candidates.map(\.method)
    if allowed.contains("GET") { allowed.append("HEAD") }
    return .methodNotAllowed(allowed: allowed)
  }

  /// The label metrics and logs use for a path: the route's path, or "unmatched", so that
  /// arbitrary paths cannot grow the metrics without bound.
  public func label(for path: String) -> String {
    routes.contains { $0.path == path } ? path : "unmatched"
  }
}
