import Foundation
import Synchronization

/// The application: routes, limits, metrics. Independent of the HTTP library; the server hands
/// it requests and sends back what it answers.
public final class Service: Sendable {
  public let configuration: ServerConfiguration
  public let metrics = Metrics()
  let gate: ComputeGate
  let budget: MemoryBudget
  let openAPI: [UInt8]
  private let connectionCount: Locked<(@Sendable () -> Int)?>
  private let routeTable: RouteTable

  public init(configuration: ServerConfiguration, connections: (@Sendable () -> Int)? = nil) throws
  {
    self.configuration = configuration
    gate = ComputeGate(slots: configuration.threads)
    budget = MemoryBudget(limit: configuration.maxInflightBytes)
    openAPI = try Service.loadOpenAPI()
    connectionCount = Locked(connections)
    routeTable = RouteTable()
    routeTable.service = self
  }

  public var router: Router { routeTable.router }

  /// The OpenAPI document shipped with the service.
  static func loadOpenAPI() throws -> [UInt8] {
    guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
      throw ConfigurationError("openapi.yaml is missing from the resource bundle")
    }
    return Array(try Data(contentsOf: url))
  }

  /// Answers one request. Computing routes wait for a compute slot, within the request's
  /// deadline, which starts now.
  public func respond(to request: HTTPRequest) -> (response: HTTPResponse, route: String) {
    let label = router.label(for: request.path)
    switch router.match(method: request.method, path: request.path) {
    case .notFound:
      return (Problem.notFound(String(request.path.prefix(200))).response(), label)
    case .methodNotAllowed(let allowed):
      let problem = Problem.methodNotAllowed(
        String(request.method.prefix(20)), request.path, allowed: allowed)
      return (problem.response(headers: [("Allow", allowed.joined(separator: ", "))]), label)
    case .route(let route):
      let encoding = request.header("x-array-encoding")?.lowercased()
      if let encoding, encoding != "base64" && encoding != "json" {
        let problem = Problem(
          400, "bad-header", "A request header has a value the service does not accept",
          "X-Array-Encoding must be base64 or json, not \(encoding.prefix(40))",
          field: "X-Array-Encoding")
        return (problem.response(instance: request.path), label)
      }
      var context = RequestContext(configuration: configuration, base64Arrays: encoding == "base64")
      let admission = route.computes ? Admission(gate: gate, deadline: context.deadline) : nil
      context.admission = admission
      defer { admission?.finish() }
      do {
        return (try route.handler(request, context), label)
      } catch {
        return (error.response(instance: request.path), label)
      }
    }
  }

  func metricsResponse() -> HTTPResponse {
    HTTPResponse(
      status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
      body: ResponseBody(metrics.render(connections: connectionCount.withLock { $0 }?() ?? 0)))
  }

  /// Where `/metrics` reads the number of open connections from (set by the HTTP server).
  public func countConnections(with source: @escaping @Sendable () -> Int) {
    connectionCount.withLock { $0 = source }
  }

  func openAPIResponse() -> HTTPResponse {
    HTTPResponse(
      status: 200, headers: [("Content-Type", "application/yaml")], body: ResponseBody(openAPI))
  }
}

/// The routes, built once; handlers that need the service reach it through `service`.
final class RouteTable: @unchecked Sendable {
  weak var service: Service?
  private(set) var router = Router(routes: [])

  init() {
    router = Router(routes: [
      Route(method: "GET", path: "/healthz", computes: false, handler: Handlers.health),
      Route(method: "GET", path: "/metrics", computes: false) { [unowned self] _, _ in
        self.service!.metricsResponse()
      },
      Route(method: "GET", path: "/openapi.yaml", computes: false) { [unowned self] _, _ in
        self.service!.openAPIResponse()
      },
      Route(method: "POST", path: "/noise-matrix", computes: true, handler: Handlers.noiseMatrix),
      Route(method: "POST", path: "/noisy-labels", computes: true, handler: Handlers.noisyLabels),
      Route(method: "POST", path: "/validate", computes: true, handler: Handlers.validate),
      Route(
        method: "POST", path: "/probabilities", computes: true, handler: Handlers.probabilities),
      Route(method: "POST", path: "/balls-into-bins", computes: true, handler: Handlers.balls),
      Route(method: "POST", path: "/batch", computes: true, handler: Batch.respond),
    ])
  }
}
