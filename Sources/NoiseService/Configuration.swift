#if canImport(Glibc)
  import Glibc
#endif

/// Everything that can be configured, each from a flag or from the environment as
/// `NOISE_SERVICE_<NAME>` (the flag name in upper case with `_` for `-`). `PORT` is honoured
/// for the port, as container platforms set it. Flags win over the environment.
public struct ServerConfiguration: Sendable, Equatable {
  /// `--host`: the numeric address to listen on; `::` listens on IPv6 and IPv4.
  public var host = "0.0.0.0"
  /// `--port`: the TCP port; 0 picks a free one (the start-up log line reports it).
  public var port = 8080
  /// `--threads`: compute slots, how many long requests compute at once; further long requests
  /// wait for a slot, within their deadline. Short requests (estimated under about a
  /// millisecond, and done within 5 ms) run without one. Defaults to the number of cores.
  public var threads = ServerConfiguration.cores
  /// `--label-threads`: threads one `/noisy-labels` computation of at least 2**18 labels may
  /// use, 1 or 2. With 2 it hands half of each pass to the library's one helper thread when that
  /// is free (one request at a time; the others compute alone), which cut the time for 10
  /// million labels from about 48 to 30-40 ms here. The answer is the same either way. Defaults
  /// to 2 on machines with at least two cores.
  public var labelThreads = Swift.min(ServerConfiguration.cores, 2)
  /// `--max-body-bytes`: the largest request body. Larger bodies get 413, decided from
  /// `Content-Length` before the body is read, or by counting bytes for chunked bodies.
  public var maxBodyBytes = 256 << 20
  /// `--max-classes`: the largest K accepted by any endpoint (422 above).
  public var maxClasses = 1000
  /// `--request-timeout`: the deadline for one request's work, in seconds, from the moment its
  /// body has arrived; past it the work stops and the answer is 503.
  public var requestTimeout = 60.0
  /// `--idle-timeout`: seconds a connection may stay silent (idle keep-alive, or a slow client
  /// sending its request) before it is closed; 0 disables it.
  public var idleTimeout = 15
  /// `--receive-timeout`: seconds a client has to send a whole request, headers and body, counted
  /// from the connection opening or from the previous answer; past it the connection is closed.
  /// This stops clients that trickle bytes just often enough to never be idle (slowloris).
  /// 0 disables it.
  public var receiveTimeout = 60.0
  /// `--max-connections`: the most simultaneous connections (one thread each).
  public var maxConnections = 1000
  /// `--max-inflight-bytes`: the most request-body memory held at once across all connections;
  /// a request that would exceed it gets 503 before its body is read.
  public var maxInflightBytes = 1 << 30
  /// `--max-batch-items`: the most items in one `/batch` request.
  public var maxBatchItems = 10_000
  /// `--max-array-length`: the longest `probabilities` or `counts` array (`n` or `K`).
  public var maxArrayLength = 1_000_000
  /// `--shutdown-grace`: seconds to let in-flight requests finish after SIGTERM or SIGINT.
  public var shutdownGrace = 30.0
  /// `--log-requests`: whether to write one JSON line per request to stderr.
  public var logRequests = true

  public init() {}

  public static var cores: Int { Swift.max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1) }

  public static let version = "1.0.0"

  /// The options, for `--help` and for parsing: flag, value description, help text.
  static let options: [(flag: String, value: String, help: String)] = [
    ("--host", "ADDRESS", "numeric address to listen on (default 0.0.0.0; :: for IPv6 and IPv4)"),
    ("--port", "PORT", "TCP port, 0 for any free port (default 8080; also $PORT)"),
    ("--threads", "N", "long requests computed at once (default: the number of cores)"),
    (
      "--label-threads", "N",
      "threads for one large /noisy-labels computation, 1 or 2 (default 2 if 2+ cores)"
    ),
    ("--max-body-bytes", "SIZE", "largest request body, e.g. 256MiB (default 256MiB)"),
    ("--max-classes", "K", "largest number of classes accepted (default 1000)"),
    ("--request-timeout", "SECONDS", "deadline for one request's work (default 60)"),
    ("--idle-timeout", "SECONDS", "close connections silent this long, 0 = never (default 15)"),
    (
      "--receive-timeout", "SECONDS",
      "time to send a whole request, 0 = unlimited (default 60)"
    ),
    ("--max-connections", "N", "most simultaneous connections (default 1000)"),
    ("--max-inflight-bytes", "SIZE", "most request-body memory held at once (default 1GiB)"),
    ("--max-batch-items", "N", "most items in one /batch request (default 10000)"),
    (
      "--max-array-length", "N",
      "longest /probabilities or /balls-into-bins result (default 1000000)"
    ),
    ("--shutdown-grace", "SECONDS", "time for in-flight requests after SIGTERM (default 30)"),
    ("--log-requests", "BOOL", "one JSON log line per request on stderr (default true)"),
  ]

  public static var usage: String {
    var text = """
      noise-service \(version): cleanlab 2.9.0's noise generation over HTTP, bit-identical.

      USAGE: noise-service [options]

      OPTIONS (each also settable as NOISE_SERVICE_<NAME>, e.g. NOISE_SERVICE_MAX_BODY_BYTES):

      """
    for option in options {
      let left = "  \(option.flag) \(option.value)"
      text +=
        left + String(repeating: " ", count: Swift.max(32 - left.count, 1)) + option.help + "\n"
    }
    text += """
        --healthcheck                 exit 0 if the server on --port answers /healthz, else 1
        --help                        show this help
        --version                     show the version

      """
    return text
  }

  /// What the command line asks for.
  public enum Command: Equatable, Sendable {
    case run(ServerConfiguration)
    /// Ask the server on this configuration's port for /healthz (for container health checks).
    case healthcheck(ServerConfiguration)
    case help
    case version
  }

  /// Reads flags (`--name value` or `--name=value`) over the environment over the defaults.
  public static func parse(arguments: [String], environment: [String: String])
    throws(ConfigurationError)
    -> Command
  {
    var values: [String: String] = [:]
    var healthcheck = false
    if let port = environment["PORT"] { values["--port"] = port }
    for option in options {
      let name =
        "NOISE_SERVICE_" + option.flag.dropFirst(2).uppercased().replacingOccurrences("-", "_")
      if let value = environment[name] { values[option.flag] = value }
    }
    var i = 0
    while i < arguments.count {
      let argument = arguments[i]
      if argument == "--help" || argument == "-h" { return .help }
      if argument == "--version" { return .version }
      if argument == "--healthcheck" {
        healthcheck = true
        i += 1
        continue
      }
      var flag = argument
      var value: String?
      if let equals = argument.firstIndex(of: "=") {
        flag = String(argument[..<equals])
        value = String(argument[argument.index(after: equals)...])
      }
      guard options.contains(where: { $0.flag == flag }) else {
        throw ConfigurationError("unknown option \(argument); see --help")
      }
      if value == nil {
        i += 1
        guard i < arguments.count else { throw ConfigurationError("\(flag) needs a value") }
        value = arguments[i]
      }
      values[flag] = value
      i += 1
    }

    var c = ServerConfiguration()
    for (flag, text) in values {
      switch flag {
      case "--host": c.host = text
      case "--port": c.port = try integer(flag, text, 0...65535)
      case "--threads": c.threads = try integer(flag, text, 1...4096)
      case "--label-threads": c.labelThreads = try integer(flag, text, 1...2)
      case "--max-body-bytes": c.maxBodyBytes = try size(flag, text)
      case "--max-classes": c.maxClasses = try integer(flag, text, 2...4096)
      case "--request-timeout": c.requestTimeout = try seconds(flag, text, allowZero: false)
      case "--idle-timeout":
        c.idleTimeout = Int(try seconds(flag, text, allowZero: true).rounded(.up))
      case "--receive-timeout": c.receiveTimeout = try seconds(flag, text, allowZero: true)
      case "--max-connections": c.maxConnections = try integer(flag, text, 1...100_000)
      case "--max-inflight-bytes": c.maxInflightBytes = try size(flag, text)
      case "--max-batch-items": c.maxBatchItems = try integer(flag, text, 1...1_000_000)
      case "--max-array-length": c.maxArrayLength = try integer(flag, text, 1...(1 << 24))
      case "--shutdown-grace": c.shutdownGrace = try seconds(flag, text, allowZero: true)
      case "--log-requests":
        switch text.lowercased() {
        case "true", "1", "yes", "on": c.logRequests = true
        case "false", "0", "no", "off": c.logRequests = false
        default: throw ConfigurationError("\(flag) must be true or false, not \(text)")
        }
      default: break
      }
    }
    if c.maxInflightBytes < c.maxBodyBytes {
      throw ConfigurationError("--max-inflight-bytes must be at least --max-body-bytes")
    }
    return healthcheck ? .healthcheck(c) : .run(c)
  }

  static func integer(_ flag: String, _ text: String, _ range: ClosedRange<Int>)
    throws(ConfigurationError) -> Int
  {
    guard let value = Int(text.trimmingSpaces), range.contains(value) else {
      throw ConfigurationError(
        "\(flag) must be an integer in \(range.lowerBound)...\(range.upperBound), not \(text)")
    }
    return value
  }

  /// Bytes: a plain number, or with a unit (B, KB, KiB, MB, MiB, GB, GiB).
  static func size(_ flag: String, _ text: String) throws(ConfigurationError) -> Int {
    let trimmed = text.trimmingSpaces
    let digits = trimmed.prefix { $0.isNumber }
    let unit = trimmed.dropFirst(digits.count).lowercased()
    let multipliers: [String: Int] = [
      "": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1 << 10, "m": 1_000_000, "mb": 1_000_000,
      "mib": 1 << 20, "g": 1_000_000_000, "gb": 1_000_000_000, "gib": 1 << 30,
    ]
    guard let number = Int(digits), let multiplier = multipliers[unit],
      number > 0, number <= (1 << 40) / multiplier
    else {
      throw ConfigurationError(
        "\(flag) must be a size such as 1048576, 256MiB or 1GiB, not \(text)")
    }
    return number * multiplier
  }

  /// Seconds: a number, optionally with `s` or `ms`.
  static func seconds(_ flag: String, _ text: String, allowZero: Bool) throws(ConfigurationError)
    -> Double
  {
    var trimmed = text.trimmingSpaces.lowercased()
    var scale = 1.0
    if trimmed.hasSuffix("ms") {
      trimmed.removeLast(2)
      scale = 0.001
    } else if trimmed.hasSuffix("s") {
      trimmed.removeLast()
    }
    guard let value = Double(trimmed), value.isFinite, value >= 0, allowZero || value > 0,
      value * scale <= 86_400
    else {
      throw ConfigurationError(
        "\(flag) must be a number of seconds such as 60, 2.5s or 500ms, not \(text)")
    }
    return value * scale
  }
}

/// A flag or environment variable the service cannot use.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
  public var description: String
  init(_ description: String) { self.description = description }
}

extension String {
  var trimmingSpaces: String {
    String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
  }

  func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
    String(map { $0 == target ? replacement : $0 })
  }
}
