/// An RFC 9457 problem: every error the service answers is one of these, sent as
/// `application/problem+json` with `type`, `title`, `status`, `detail` and, where one field is
/// at fault, `field`.
public struct Problem: Error, Sendable, Equatable {
  /// The HTTP status.
  public var status: Int
  /// A stable identifier of the kind of problem; `type` in the document is
  /// `https://noise-service.dev/problems/<slug>`.
  public var slug: String
  public var title: String
  public var detail: String
  /// The request field at fault, if one is.
  public var field: String?

  public init(
    _ status: Int, _ slug: String, _ title: String, _ detail: String, field: String? = nil
  ) {
    self.status = status
    self.slug = slug
    self.title = title
    self.detail = detail
    self.field = field
  }

  public var type: String { "https://noise-service.dev/problems/\(slug)" }

  /// The problem document.
  public func response(instance: String? = nil, headers: [(String, String)] = []) -> HTTPResponse {
    var w = JSONWriter(capacity: 256 + detail.utf8.count)
    w.raw("{")
    w.key("type")
    w.string(type)
    w.raw(",")
    w.key("title")
    w.string(title)
    w.raw(",")
    w.key("status")
    w.integer(status)
    w.raw(",")
    w.key("detail")
    w.string(detail)
    if let field {
      w.raw(",")
      w.key("field")
      w.string(field)
    }
    if let instance {
      w.raw(",")
      w.key("instance")
      w.string(instance)
    }
    w.raw("}")
    return HTTPResponse(
      status: status, headers: [("Content-Type", "application/problem+json")] + headers,
      body: w.finish())
  }

  // MARK: 400: the body is not a well-formed request

  static func malformed(_ detail: String) -> Problem {
    Problem(400, "malformed-json", "The request body is not valid JSON", detail)
  }

  static func notAnObject(_ detail: String) -> Problem {
    Problem(400, "not-an-object", "The request body must be a JSON object", detail)
  }

  static func wrongType(_ field: String, _ detail: String) -> Problem {
    Problem(400, "wrong-type", "A field has the wrong JSON type", detail, field: field)
  }

  static func unknownField(_ field: String, allowed: [String]) -> Problem {
    Problem(
      400, "unknown-field", "Unknown field",
      "\"\(field)\" is not a field of this endpoint; the fields are "
        + allowed.map { "\"\($0)\"" }.joined(separator: ", "),
      field: field)
  }

  static func duplicateField(_ field: String) -> Problem {
    Problem(
      400, "duplicate-field", "Duplicate field", "\"\(field)\" appears more than once",
      field: field)
  }

  static func notInteger(_ field: String, _ detail: String) -> Problem {
    Problem(400, "not-an-integer", "An integer field has a fractional value", detail, field: field)
  }

  static func badNumber(_ field: String?, _ detail: String) -> Problem {
    Problem(
      400, "invalid-number", "A number is malformed or outside the range of a double", detail,
      field: field)
  }

  static func missingField(_ field: String) -> Problem {
    Problem(
      400, "missing-field", "A required field is missing", "\"\(field)\" is required", field: field)
  }

  // MARK: 422: well-formed, but the values are rejected

  static func invalidValue(_ field: String?, _ detail: String) -> Problem {
    Problem(
      422, "invalid-value", "A value is outside what the service accepts", detail, field: field)
  }

  static func cleanlab(_ detail: String, field: String? = nil) -> Problem {
    Problem(422, "cleanlab-value-error", "cleanlab rejects these arguments", detail, field: field)
  }

  // MARK: other statuses

  static func notFound(_ path: String) -> Problem {
    Problem(404, "not-found", "No such endpoint", "there is no endpoint at \(path)")
  }

  static func methodNotAllowed(_ method: String, _ path: String, allowed: [String]) -> Problem {
    Problem(
      405, "method-not-allowed", "Method not allowed",
      "\(path) accepts \(allowed.joined(separator: ", ")), not \(method)")
  }

  static func tooLarge(_ detail: String) -> Problem {
    Problem(413, "body-too-large", "The request body is too large", detail)
  }

  static func deadline(_ seconds: Double) -> Problem {
    Problem(
      503, "deadline-exceeded", "The request deadline passed",
      "the work for this request did not finish within the request deadline of \(seconds) s"
        + " (--request-timeout); it was stopped")
  }

  /// A long request that waited for a compute slot until its deadline: before starting, or
  /// (`started`) after computing without one for a few milliseconds.
  static func waitedForSlot(_ seconds: Double, started: Bool) -> Problem {
    Problem(
      503, "deadline-exceeded", "The request deadline passed",
      "every compute slot (--threads) stayed busy with other long requests until this request's"
        + " deadline of \(seconds) s (--request-timeout); "
        + (started
          ? "it had computed for a few milliseconds, then waited for a slot, and was stopped"
          : "it was not started"))
  }

  static func busy(_ detail: String) -> Problem {
    Problem(503, "server-busy", "The server is at capacity", detail)
  }

  static func unsupportedMediaType(_ detail: String) -> Problem {
    Problem(415, "unsupported-media-type", "Unsupported media type", detail)
  }

  static func notAcceptable(_ detail: String) -> Problem {
    Problem(406, "not-acceptable", "Not acceptable", detail)
  }
}
