import Dispatch

/// `POST /batch`: many single-endpoint requests in one round trip.
///
/// The body is `{"requests": [{"path": "/noise-matrix", "body": {...}}, ...]}` and the answer
/// `{"responses": [{"status": 200, "body": {...}}, ...]}`, in order. Each item's answer is
/// exactly what its endpoint would answer alone, problems included; one bad item does not fail
/// the others: an unknown path gets the 404 a request to it would, a body that is not the
/// endpoint's request its 400 or 422, and an item that is not such an object a 400. All items
/// are decoded first, so that the batch's total work can be bounded before any is computed
/// (`maxWork` units: about one unit per label, matrix entry or output value), then computed in
/// parallel on all cores, all under the batch's deadline.
enum Batch {
  static let endpoints = [
    "/noise-matrix", "/noisy-labels", "/validate", "/probabilities", "/balls-into-bins",
  ]
  /// The most work units one batch may ask for: about ten seconds of computation on one core.
  static let maxWork = 200_000_000

  enum Item {
    case noiseMatrix(NoiseMatrixRequest)
    case noisyLabels(NoisyLabelsRequest)
    case validate(ValidateRequest)
    case probabilities(ProbabilitiesRequest)
    case balls(BallsRequest)
    case failed(Problem)

    /// Deterministic cost estimate, from the decoded arguments only.
    var work: Int {
      switch self {
      case .noiseMatrix(let r): return r.work
      case .noisyLabels(let r): return r.work
      case .validate(let r): return r.work
      case .probabilities(let r): return r.work
      case .balls(let r): return r.work
      case .failed: return 1
      }
    }

    func execute(_ context: RequestContext) throws(Problem) -> HTTPResponse {
      switch self {
      case .noiseMatrix(let r): return try Handlers.noiseMatrix(r, context)
      case .noisyLabels(let r):
        return try Handlers.noisyLabelsResponse(r, npyAnswer: false, context)
      case .validate(let r): return try Handlers.validate(r, context)
      case .probabilities(let r): return try Handlers.probabilities(r, context)
      case .balls(let r): return try Handlers.balls(r, context)
      case .failed(let problem): throw problem
      }
    }
  }

  static func decode(_ item: BatchItem) -> Item {
    if let problem = item.problem { return .failed(problem) }
    do throws(Problem) {
      switch item.path {
      case "/noise-matrix": return .noiseMatrix(try RequestDecoder.noiseMatrix(item.body))
      case "/noisy-labels": return .noisyLabels(try RequestDecoder.noisyLabels(item.body))
      case "/validate": return .validate(try RequestDecoder.validate(item.body))
      case "/probabilities": return .probabilities(try RequestDecoder.probabilities(item.body))
      case "/balls-into-bins": return .balls(try RequestDecoder.balls(item.body))
      default:
        return .failed(
          Problem(
            404, "not-found", "No such endpoint",
            "a batch item's path must be one of \(endpoints.joined(separator: ", ")), not \(item.path.prefix(100))"
          ))
      }
    } catch {
      return .failed(error)
    }
  }

  static func respond(_ request: HTTPRequest, _ context: RequestContext) throws(Problem)
    -> HTTPResponse
  {
    let raw = try RequestDecoder.batch(request.body, maxItems: context.configuration.maxBatchItems)
    let count = raw.count
    // Each iteration initializes its own slot, and concurrentPerform returns only after every
    // iteration has finished, so the slots need no lock.
    let items = [Item](unsafeUninitializedCapacity: count) { buffer, initialized in
      nonisolated(unsafe) let slots = buffer.baseAddress!
      DispatchQueue.concurrentPerform(iterations: count) { i in
        (slots + i).initialize(to: decode(raw[i]))
      }
      initialized = count
    }
    var work = 0
    for item in items {
      work = work &+ item.work
      if work > maxWork {
        throw Problem.invalidValue(
          "requests",
          "the batch asks for more than \(maxWork) units of work (labels, matrix entries and results); split it"
        )
      }
    }
    try context.admit(work: work)
    let answers = [(Int, ResponseBody)](unsafeUninitializedCapacity: count) { buffer, initialized in
      nonisolated(unsafe) let slots = buffer.baseAddress!
      DispatchQueue.concurrentPerform(iterations: count) { i in
        let response: HTTPResponse
        do throws(Problem) {
          response = try items[i].execute(context)
        } catch {
          response = error.response(instance: raw[i].problem == nil ? raw[i].path : nil)
        }
        (slots + i).initialize(to: (response.status, response.body))
      }
      initialized = count
    }
    var w = JSONWriter(capacity: 32 + answers.reduce(0) { $0 + $1.1.count + 24 })
    w.raw("{\"responses\":[")
    for (i, (status, body)) in answers.enumerated() {
      if i > 0 { w.raw(",") }
      w.raw("{\"status\":")
      w.integer(status)
      w.raw(",\"body\":")
      w.append(body)
      w.raw("}")
    }
    w.raw("]}")
    return .json(w)
  }
}
