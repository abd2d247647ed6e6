import NoiseGeneration

/// What a handler may know besides the request: the configuration and the request's deadline.
public struct RequestContext: Sendable {
  public var configuration: ServerConfiguration
  /// When the work for this request must stop.
  public var deadline: ContinuousClock.Instant

  /// Whether float arrays in answers are written in the base64 form (request header
  /// `X-Array-Encoding: base64`).
  public var base64Arrays = false

  /// The request's claim on the compute slots; nil when nothing limits them (handlers called
  /// directly, as in tests).
  var admission: Admission?

  public init(
    configuration: ServerConfiguration, deadline: ContinuousClock.Instant? = nil,
    base64Arrays: Bool = false
  ) {
    self.configuration = configuration
    self.base64Arrays = base64Arrays
    self.deadline =
      deadline ?? ContinuousClock.now + .milliseconds(Int64(configuration.requestTimeout * 1000))
  }

  /// Stops work at the deadline, and makes long work wait for a compute slot.
  var cancellation: Cancellation {
    if let admission { return Cancellation { admission.shouldStop() } }
    return Cancellation(deadline: deadline)
  }

  /// Called once the arguments are decoded and validated, before generating: work estimated
  /// above ``Admission/lightWork`` waits for a compute slot (503 at the deadline).
  func admit(work: Int) throws(Problem) {
    if let admission, !admission.admit(work: work) {
      throw Problem.waitedForSlot(configuration.requestTimeout, started: false)
    }
  }
}

/// The endpoints, as plain functions from a request to a response. They decode, validate, call
/// NoiseGeneration and encode; errors come back as ``Problem``s. No socket is involved, so tests
/// call them directly.
public enum Handlers {
  // MARK: POST /noise-matrix

  public static func noiseMatrix(_ request: HTTPRequest, _ context: RequestContext) throws(Problem)
    -> HTTPResponse
  {
    try noiseMatrix(try RequestDecoder.noiseMatrix(request.body), context)
  }

  public static func noiseMatrix(_ r: NoiseMatrixRequest, _ context: RequestContext) throws(Problem)
    -> HTTPResponse
  {
    let limits = context.configuration
    if r.K > limits.maxClasses {
      throw Problem.invalidValue(
        "K", "K = \(r.K) is more than this service accepts (--max-classes \(limits.maxClasses))")
    }
    try checkSeed(r.seed)
    if let py = r.py {
      if py.count != r.K {
        throw Problem.invalidValue("py", "py has \(py.count) entries; it must have K = \(r.K)")
      }
      try checkNonNegative(py, "py")
    }
    try context.admit(work: r.work)
    let result: NoiseMatrixFromTrace
    do throws(NoiseGenerationError) {
      result = try generateNoiseMatrixFromTrace(
        K: r.K, trace: r.trace, maxTraceProb: r.maxTraceProb, minTraceProb: r.minTraceProb,
        maxNoiseRate: r.maxNoiseRate, minNoiseRate: r.minNoiseRate,
        validNoiseMatrix: r.validNoiseMatrix, py: r.py, fracZeroNoiseRates: r.fracZeroNoiseRates,
        seed: r.seed, maxIter: r.maxIter, cancellation: context.cancellation)
    } catch {
      throw Problem(error, context, endpoint: .noiseMatrix)
    }
    var w = JSONWriter(capacity: 64 + r.K * r.K * 22)
    w.raw("{")
    w.key("noise_matrix")
    if let matrix = result.matrix {
      if context.base64Arrays {
        writeEncoded(&w, matrix.entries, shape: [matrix.K, matrix.K])
      } else {
        writeMatrix(&w, matrix.entries, K: matrix.K)
      }
    } else {
      w.null()
    }
    w.raw(",")
    w.key("seed")
    w.integer(r.seed)
    w.raw(",")
    w.key("iterations")
    w.integer(result.iterations)
    w.raw("}")
    return .json(w)
  }

  // MARK: POST /noisy-labels

  public static func noisyLabels(_ request: HTTPRequest, _ context: RequestContext) throws(Problem)
    -> HTTPResponse
  {
    if let parts = request.parts {
      return try NoisyLabelsNPY.respond(parts: parts, npyAnswer: request.acceptsNPY, context)
    }
    let r = try RequestDecoder.noisyLabels(request.body)
    return try noisyLabelsResponse(r, npyAnswer: request.acceptsNPY, context)
  }

  static func noisyLabelsResponse(
    _ r: NoisyLabelsRequest, npyAnswer: Bool, _ context: RequestContext
  )
    throws(Problem) -> HTTPResponse
  {
    let outcome = try noisyLabels(r, context)
    if npyAnswer {
      // a JSON list of labels is int64 for numpy, so the answer is too
      let dtype = NPY.DType(kind: .signed, size: 8, bigEndian: false)
      return NoisyLabelsNPY.response(
        count: outcome.labels.count, dtype: dtype, seed: r.seed, flipped: outcome.numFlipped
      ) { data in
        for (i, label) in outcome.labels.enumerated() { NPY.store(Int64(label), data, i, dtype) }
      }
    }
    var w = JSONWriter(capacity: 64 + r.trueLabels.count * 4)
    w.raw("{")
    w.key("noisy_labels")
    outcome.labels.withUnsafeBufferPointer { w.integers($0) }
    w.raw(",")
    w.key("seed")
    w.integer(r.seed)
    w.raw(",")
    w.key("num_flipped")
    w.integer(outcome.numFlipped)
    w.raw("}")
    return .json(w)
  }

  /// Validation and generation, shared by the JSON and `.npy` forms of `/noisy-labels`.
  public static func noisyLabels(_ r: NoisyLabelsRequest, _ context: RequestContext) throws(Problem)
    -> NoisyLabels<Int32>
  {
    let matrix = try checkedNoiseMatrix(
      r.noiseMatrix, rows: r.rows, columns: r.columns, context, columnsSumToOne: true)
    try checkSeed(r.seed)
    try context.admit(work: r.work)
    var random = RandomState(seed: UInt32(r.seed))
    do throws(NoiseGenerationError) {
      return try generateNoisyLabels(
        trueLabels: r.trueLabels, noiseMatrix: matrix, randomState: &random,
        cancellation: context.cancellation, threads: context.configuration.labelThreads)
    } catch {
      throw Problem(error, context, endpoint: .noisyLabels)
    }
  }

  // MARK: POST /validate

  public static func validate(_ request: HTTPRequest, _ context: RequestContext) throws(Problem)
    -> HTTPResponse
  {
    try validate(try RequestDecoder.validate(request.body), context)
  }

  static func validate(_ r: ValidateRequest, _ context: RequestContext) throws(Problem)
    -> HTTPResponse
  {
    let matrix = try checkedNoiseMatrix(
      r.noiseMatrix, rows: r.rows, columns: r.columns, context, columnsSumToOne: false)
    if r.py.count != matrix.K {
      throw Problem.invalidValue(
        "py", "py has \(r.py.count) entries; it must have one per row of noise_matrix (\(matrix.K))"
      )
    }
    try checkNonNegative(r.py, "py")
    try context.admit(work: r.work)
    let validity: NoiseMatrixValidity
    do throws(NoiseGenerationError) {
      validity = try noiseMatrixValidity(matrix, py: r.py)
    } catch {
      throw Problem(error, context, endpoint: .validate)
    }
    var w = JSONWriter(capacity: 256)
    w.raw("{")
    w.key("valid")
    w.bool(validity.isValid)
    switch validity.failure {
    case nil: break
    case .jointDoesNotSumToOne(let sum):
      w.raw(",")
      w.key("reason")
      w.string("joint_does_not_sum_to_one")
      w.raw(",")
      w.key("joint_sum")
      w.double(sum)
      let columns = offColumns(matrix)
      let pySum = r.py.reduce(0, +)
      var detail = "the joint noise_matrix * py sums to \(sum), not 1 within 1e-6"
      if !columns.isEmpty {
        detail +=
          "; columns \(columns.prefix(10).map(String.init).joined(separator: ", "))"
          + "\(columns.count > 10 ? ", ..." : "") of noise_matrix do not sum to 1"
      }
      if !(abs(pySum - 1) < 1e-6) { detail += "; py sums to \(pySum)" }
      w.raw(",")
      w.key("columns_not_summing_to_one")
      w.raw("[")
      for (i, c) in columns.enumerated() {
        if i > 0 { w.raw(",") }
        w.integer(c)
      }
      w.raw("]")
      w.raw(",")
      w.key("py_sum")
      w.double(pySum)
      w.raw(",")
      w.key("detail")
      w.string(detail)
    case .notLearnable(let k, let product, let joint):
      w.raw(",")
      w.key("reason")
      w.string("not_learnable")
      w.raw(",")
      w.key("class")
      w.integer(k)
      w.raw(",")
      w.key("detail")
      w.string(
        "for class \(k), p(label=\(k)) * p(true_label=\(k)) = \(product) is not below"
          + " p(label=\(k), true_label=\(k)) = \(joint): noise makes this class no more likely"
          + " to keep its label than chance")
    }
    w.raw("}")
    return .json(w)
  }

  // MARK: POST /probabilities

  public static func probabilities(_ request: HTTPRequest, _ context: RequestContext)
    throws(Problem) -> HTTPResponse
  {
    try probabilities(try RequestDecoder.probabilities(request.body), context)
  }

  static func probabilities(_ r: ProbabilitiesRequest, _ context: RequestContext) throws(Problem)
    -> HTTPResponse
  {
    if r.n > context.configuration.maxArrayLength {
      throw Problem.invalidValue(
        "n",
        "n = \(r.n) is more than this service returns (--max-array-length \(context.configuration.maxArrayLength))"
      )
    }
    try checkSeed(r.seed)
    try context.admit(work: r.work)
    var random = RandomState(seed: UInt32(r.seed))
    let values: [Double]
    do throws(NoiseGenerationError) {
      values = try generateNRandProbabilitiesThatSumToM(
        n: r.n, m: r.m, maxProb: r.maxProb, minProb: r.minProb, randomState: &random,
        cancellation: context.cancellation)
    } catch {
      throw Problem(error, context, endpoint: .probabilities)
    }
    var w = JSONWriter(capacity: 64 + values.count * 22)
    w.raw("{")
    w.key("probabilities")
    if context.base64Arrays {
      writeEncoded(&w, values, shape: [values.count])
    } else {
      w.doubles(values)
    }
    w.raw(",")
    w.key("seed")
    w.integer(r.seed)
    w.raw("}")
    return .json(w)
  }

  // MARK: POST /balls-into-bins

  public static func balls(_ request: HTTPRequest, _ context: RequestContext) throws(Problem)
    -> HTTPResponse
  {
    try balls(try RequestDecoder.balls(request.body), context)
  }

  static func balls(_ r: BallsRequest, _ context: RequestContext) throws(Problem) -> HTTPResponse {
    if r.K > context.configuration.maxArrayLength {
      throw Problem.invalidValue(
        "K",
        "K = \(r.K) is more than this service returns (--max-array-length \(context.configuration.maxArrayLength))"
      )
    }
    try checkSeed(r.seed)
    try context.admit(work: r.work)
    var random = RandomState(seed: UInt32(r.seed))
    let counts: [Int]
    do throws(NoiseGenerationError) {
      counts = try randomlyDistributeNBallsIntoKBins(
        N: r.N, K: r.K, maxBallsPerBin: r.maxBallsPerBin, minBallsPerBin: r.minBallsPerBin,
        randomState: &random, cancellation: context.cancellation)
    } catch {
      throw Problem(error, context, endpoint: .balls)
    }
    var w = JSONWriter(capacity: 64 + counts.count * 8)
    w.raw("{")
    w.key("counts")
    counts.withUnsafeBufferPointer { w.integers($0) }
    w.raw(",")
    w.key("seed")
    w.integer(r.seed)
    w.raw("}")
    return .json(w)
  }

  // MARK: GET endpoints

  public static func health(_ request: HTTPRequest, _ context: RequestContext) -> HTTPResponse {
    HTTPResponse(
      status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
      body: ResponseBody("{\"status\":\"ok\"}"))
  }

  // MARK: validation shared by the endpoints

  static func checkSeed(_ seed: Int) throws(Problem) {
    if seed < 0 || seed > RandomState.maxSeed {
      throw Problem.invalidValue(
        "seed",
        "seed = \(seed) is outside 0...4294967295 (numpy: Seed must be between 0 and 2**32 - 1)")
    }
  }

  static func checkNonNegative(_ values: [Double], _ field: String) throws(Problem) {
    if let bad = values.firstIndex(where: { $0 < 0 }) {
      throw Problem.invalidValue(field, "\(field)[\(bad)] = \(values[bad]) is negative")
    }
  }

  /// A square matrix within --max-classes, entries in [0, 1], and optionally columns summing to
  /// 1 within 1e-6.
  static func checkedNoiseMatrix(
    _ values: [Double], rows: Int, columns: Int, _ context: RequestContext, columnsSumToOne: Bool
  ) throws(Problem) -> NoiseMatrix {
    let field = "noise_matrix"
    if rows > 0 && rows != columns {
      throw Problem.invalidValue(field, "noise_matrix is \(rows)×\(columns); it must be K×K")
    }
    if rows > context.configuration.maxClasses {
      throw Problem.invalidValue(
        field,
        "noise_matrix has K = \(rows) classes, more than this service accepts (--max-classes \(context.configuration.maxClasses))"
      )
    }
    if let bad = values.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
      throw Problem.invalidValue(
        field,
        "noise_matrix[\(bad / Swift.max(rows, 1))][\(bad % Swift.max(rows, 1))] = \(values[bad]) is outside [0, 1]"
      )
    }
    guard let matrix = try? NoiseMatrix(K: rows, entries: values) else {
      throw Problem.invalidValue(field, "noise_matrix must be K×K")
    }
    if columnsSumToOne, let column = offColumns(matrix).first {
      let sum = (0..<rows).reduce(0.0) { $0 + matrix[$1, column] }
      throw Problem.invalidValue(
        field,
        "column \(column) of noise_matrix sums to \(sum); columns (true labels) must sum to 1 within 1e-6"
      )
    }
    return matrix
  }

  /// Columns whose entries do not sum to 1 within 1e-6.
  static func offColumns(_ matrix: NoiseMatrix) -> [Int] {
    (0..<matrix.K).filter { column in
      let sum = (0..<matrix.K).reduce(0.0) { $0 + matrix[$1, column] }
      return !(abs(sum - 1) < 1e-6)
    }
  }

  /// `{"dtype": "<f8", "shape": [...], "base64": "..."}`: the little-endian float64 bytes.
  static func writeEncoded(_ w: inout JSONWriter, _ values: [Double], shape: [Int]) {
    w.raw("{\"dtype\":\"<f8\",\"shape\":[")
    for (i, d) in shape.enumerated() {
      if i > 0 { w.raw(",") }
      w.integer(d)
    }
    w.raw("],\"base64\":\"")
    values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Base64.encode($0, into: &w) }
    w.raw("\"}")
  }

  static func writeMatrix(_ w: inout JSONWriter, _ entries: [Double], K: Int) {
    w.raw("[")
    for row in 0..<K {
      if row > 0 { w.raw(",") }
      w.doubles(entries[(row * K)..<((row + 1) * K)])
    }
    w.raw("]")
  }
}

/// Which endpoint an error came from, to name the field at fault.
enum Endpoint {
  case noiseMatrix, noisyLabels, validate, probabilities, balls
}

extension Problem {
  /// The problem for a library error: cleanlab's and numpy's ValueErrors and the library's
  /// typed errors are 422 with their message; cancellation is the deadline's 503.
  init(_ error: NoiseGenerationError, _ context: RequestContext, endpoint: Endpoint) {
    switch error {
    case .cleanlab(let e):
      var field: String?
      switch e {
      case .traceNotAboveOne: field = "trace"
      case .priorRequired: field = "py"
      case .tooFewClasses: field = "K"
      case .maxProbBelowMean: field = endpoint == .probabilities ? "max_prob" : nil
      case .minProbAboveMean: field = endpoint == .probabilities ? "min_prob" : nil
      }
      self = .cleanlab(e.message, field: field)
    case .numpy(let message):
      self = Problem(422, "numpy-value-error", "numpy rejects these arguments", message)
    case .invalidArgument(let argument, let reason):
      self = .invalidValue(argument, "\(argument): \(reason)")
    case .shapeMismatch(let argument, _, _):
      self = .invalidValue(argument, error.message)
    case .iterationLimitExceeded:
      self = Problem(
        422, "does-not-converge", "These arguments make cleanlab loop for minutes or without end",
        error.message)
    case .cancelled:
      self =
        context.admission?.starved == true
        ? .waitedForSlot(context.configuration.requestTimeout, started: true)
        : .deadline(context.configuration.requestTimeout)
    }
  }
}
