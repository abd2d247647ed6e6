import Testing

@testable import NoiseService

@Suite("Configuration")
struct ConfigurationTests {
  func run(_ arguments: [String], _ environment: [String: String] = [:]) throws
    -> ServerConfiguration
  {
    guard
      case .run(let c) = try ServerConfiguration.parse(
        arguments: arguments, environment: environment)
    else {
      throw TestError("not a run command")
    }
    return c
  }

  @Test("defaults")
  func defaults() throws {
    let c = try run([])
    #expect(c.host == "0.0.0.0" && c.port == 8080)
    #expect(c.maxBodyBytes == 256 << 20 && c.maxClasses == 1000 && c.requestTimeout == 60)
    #expect(c.threads == ServerConfiguration.cores)
    #expect(c.labelThreads == Swift.min(ServerConfiguration.cores, 2))
  }

  @Test("flags win over NOISE_SERVICE_* which win over PORT")
  func precedence() throws {
    #expect(try run([], ["PORT": "9000"]).port == 9000)
    #expect(try run([], ["PORT": "9000", "NOISE_SERVICE_PORT": "9001"]).port == 9001)
    #expect(
      try run(["--port", "9002"], ["PORT": "9000", "NOISE_SERVICE_PORT": "9001"]).port == 9002)
    #expect(try run(["--port=9003"]).port == 9003)
    let c = try run(
      ["--max-body-bytes", "1MiB", "--request-timeout", "500ms", "--idle-timeout", "2s"],
      [
        "NOISE_SERVICE_MAX_CLASSES": "50", "NOISE_SERVICE_THREADS": "3",
        "NOISE_SERVICE_MAX_CONNECTIONS": "64", "NOISE_SERVICE_LABEL_THREADS": "1",
      ])
    #expect(c.maxBodyBytes == 1 << 20 && c.requestTimeout == 0.5 && c.idleTimeout == 2)
    #expect(c.maxClasses == 50 && c.threads == 3 && c.maxConnections == 64)
    #expect(c.labelThreads == 1)
    #expect(try run(["--label-threads", "2"]).labelThreads == 2)
  }

  @Test("help, version, and clear errors")
  func commands() throws {
    #expect(try ServerConfiguration.parse(arguments: ["--help"], environment: [:]) == .help)
    #expect(try ServerConfiguration.parse(arguments: ["--version"], environment: [:]) == .version)
    #expect(ServerConfiguration.usage.contains("--max-body-bytes"))
    for bad in [
      ["--port", "70000"], ["--nope"], ["--port"], ["--max-body-bytes", "lots"],
      ["--request-timeout", "-1"], ["--threads", "0"], ["--label-threads", "3"],
      ["--label-threads", "0"],
    ] {
      #expect(throws: ConfigurationError.self) {
        try ServerConfiguration.parse(arguments: bad, environment: [:])
      }
    }
    #expect(throws: ConfigurationError.self) {
      try ServerConfiguration.parse(arguments: [], environment: ["NOISE_SERVICE_PORT": "x"])
    }
  }
}
