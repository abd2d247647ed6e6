import Glibc

/// JSON lines on stderr: one per request, and one at start-up and shutdown. Each line is
/// written with a single write(2), so lines from concurrent requests never interleave.
public enum Log {
  public static func write(_ fields: [(String, LogValue)]) {
    var w = JSONWriter(capacity: 256)
    w.raw("{\"time\":")
    w.string(timestamp())
    for (name, value) in fields {
      w.raw(",")
      w.string(name)
      w.raw(":")
      switch value {
      case .string(let s): w.string(s)
      case .int(let i): w.integer(i)
      case .double(let d): w.double(d.isFinite ? d : 0)
      case .bool(let b): w.bool(b)
      }
    }
    w.raw("}\n")
    let body = w.finish()
    if let base = body.base {
      var offset = 0
      while offset < body.count {
        let n = Glibc.write(2, base + offset, body.count - offset)
        if n <= 0 { break }
        offset += n
      }
    }
  }

  public static func info(_ message: String, _ fields: [(String, LogValue)] = []) {
    write([("level", .string("info")), ("message", .string(message))] + fields)
  }

  public static func error(_ message: String, _ fields: [(String, LogValue)] = []) {
    write([("level", .string("error")), ("message", .string(message))] + fields)
  }

  /// RFC 3339 in UTC with milliseconds.
  static func timestamp() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = now.tv_sec
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let millis = now.tv_nsec / 1_000_000
    let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
      + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
  }
}

public enum LogValue {
  case string(String)
  case int(Int)
  case double(Double)
  case bool(Bool)
}
