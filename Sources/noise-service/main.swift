// noise-service: parse flags and environment, start, wait for SIGTERM or SIGINT, shut down.
import Glibc
import NoiseService

/// glibc's `mallopt` and `M_MMAP_THRESHOLD` (malloc.h, which the Glibc module does not export).
@_silgen_name("mallopt") func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
let mallocMmapThreshold: Int32 = -3

nonisolated func run() -> Int32 {
  var environment: [String: String] = [:]
  var entry = environ
  while let pointer = entry.pointee {
    let text = String(cString: pointer)
    if let equals = text.firstIndex(of: "=") {
      environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
    }
    entry += 1
  }

  let configuration: ServerConfiguration
  do {
    switch try ServerConfiguration.parse(
      arguments: Array(CommandLine.arguments.dropFirst()), environment: environment)
    {
    case .help:
      print(ServerConfiguration.usage, terminator: "")
      return 0
    case .version:
      print("noise-service \(ServerConfiguration.version) (cleanlab 2.9.0 noise generation)")
      return 0
    case .healthcheck(let parsed):
      return HealthCheck.run(port: parsed.port, host: parsed.host) ? 0 : 1
    case .run(let parsed):
      configuration = parsed
    }
  } catch {
    let message = "noise-service: \(error.description)\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    return 2
  }

  // Large buffers (request bodies, answers, label arrays) go straight to mmap and back to the
  // kernel when freed. glibc's default threshold rises to the largest block freed so far, after
  // which such buffers stay in the per-thread arenas: memory that is reused but never returned,
  // so the process's size would depend on which thread last served a large request.
  _ = mallopt(mallocMmapThreshold, 4 << 20)

  // Writing to a closed socket must be an error return, not a signal that kills the process.
  signal(SIGPIPE, SIG_IGN)
  // SIGTERM and SIGINT are taken with sigwait below; block them before any thread starts so
  // that every thread inherits the mask and only this one receives them.
  var signals = sigset_t()
  sigemptyset(&signals)
  sigaddset(&signals, SIGTERM)
  sigaddset(&signals, SIGINT)
  pthread_sigmask(SIG_BLOCK, &signals, nil)

  let server: HTTPServer
  do {
    let service = try Service(configuration: configuration)
    server = HTTPServer(service: service)
    try server.start()
  } catch {
    Log.error("cannot start", [("detail", .string("\(error)"))])
    return 1
  }
  let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
  Log.info(
    "listening",
    [
      ("address", .string("\(host):\(server.port)")), ("port", .int(server.port)),
      ("threads", .int(configuration.threads)),
      ("max_body_bytes", .int(configuration.maxBodyBytes)),
      ("max_classes", .int(configuration.maxClasses)),
      ("request_timeout_s", .double(configuration.requestTimeout)),
      ("idle_timeout_s", .int(configuration.idleTimeout)),
      ("max_connections", .int(configuration.maxConnections)),
      ("version", .string(ServerConfiguration.version)),
    ])

  var received: Int32 = 0
  sigwait(&signals, &received)
  Log.info(
    "shutting down",
    [
      ("signal", .string(received == SIGTERM ? "SIGTERM" : "SIGINT")),
      ("in_flight", .int(server.requestsInFlight)),
      ("grace_s", .double(configuration.shutdownGrace)),
    ])
  let drained = server.shutdown(grace: .milliseconds(Int64(configuration.shutdownGrace * 1000)))
  Log.info("stopped", [("drained", .bool(drained))])
  return 0
}

exit(run())
