import NoiseGeneration

/// The binary form of `/noisy-labels`: a `multipart/form-data` body with parts `true_labels`
/// (an `.npy` array), `noise_matrix` (`.npy` or JSON) and `seed` (text), and, with
/// `Accept: application/x-npy`, an `.npy` answer in the labels' own dtype with the seed and the
/// number of flips in the `X-Seed` and `X-Num-Flipped` headers.
///
/// Labels in native byte order are used in place: the library reads them from the uploaded part
/// and, for an `.npy` answer, writes the noisy labels straight into the response buffer, so ten
/// million int64 labels cost their upload plus their answer and the library's own scratch.
enum NoisyLabelsNPY {
  static let fields = ["true_labels", "noise_matrix", "seed"]

  static func respond(parts: [String: RequestBody], npyAnswer: Bool, _ context: RequestContext)
    throws(Problem) -> HTTPResponse
  {
    for name in parts.keys where !fields.contains(name) {
      throw Problem.unknownField(String(name.prefix(64)), allowed: fields)
    }
    guard let labelsPart = parts["true_labels"] else { throw Problem.missingField("true_labels") }
    guard let matrixPart = parts["noise_matrix"] else { throw Problem.missingField("noise_matrix") }
    let seed = try parts["seed"].map { (part) throws(Problem) in try parseSeed(part) } ?? 0
    try Handlers.checkSeed(seed)

    let header: NPY.Header
    do {
      header = try NPY.labels(labelsPart.bytes)
    } catch {
      throw Problem(
        400, "malformed-npy", "The .npy file is malformed", "true_labels: \(error.description)",
        field: "true_labels")
    }
    let matrix = try noiseMatrix(matrixPart, context)

    let count = header.count
    let dtype = header.dtype
    let data = labelsPart.base + header.dataOffset
    let aligned = Int(bitPattern: data) % dtype.size == 0
    let native = !dtype.bigEndian || dtype.size == 1
    if native && aligned {
      switch (dtype.kind, dtype.size) {
      case (.signed, 1):
        return try run(Int8.self, data, count, dtype, matrix, seed, npyAnswer, context)
      case (.signed, 2):
        return try run(Int16.self, data, count, dtype, matrix, seed, npyAnswer, context)
      case (.signed, 4):
        return try run(Int32.self, data, count, dtype, matrix, seed, npyAnswer, context)
      case (.signed, _):
        return try run(Int64.self, data, count, dtype, matrix, seed, npyAnswer, context)
      case (_, 1): return try run(UInt8.self, data, count, dtype, matrix, seed, npyAnswer, context)
      case (_, 2): return try run(UInt16.self, data, count, dtype, matrix, seed, npyAnswer, context)
      case (_, 4): return try run(UInt32.self, data, count, dtype, matrix, seed, npyAnswer, context)
      default: return try run(UInt64.self, data, count, dtype, matrix, seed, npyAnswer, context)
      }
    }
    // big-endian or unaligned: through native 64-bit integers
    let converted = UnsafeMutablePointer<Int64>.allocate(capacity: Swift.max(count, 1))
    defer { converted.deallocate() }
    for i in 0..<count { converted[i] = NPY.integer(data, i, dtype) }
    return try run(
      Int64.self, UnsafeRawPointer(converted), count, dtype, matrix, seed, npyAnswer, context)
  }

  /// Generates on labels of type `T` read from `data`; answers in `dtype` (the upload's).
  static func run<T: FixedWidthInteger>(
    _: T.Type, _ data: UnsafeRawPointer, _ count: Int, _ dtype: NPY.DType, _ matrix: NoiseMatrix,
    _ seed: Int, _ npyAnswer: Bool, _ context: RequestContext
  ) throws(Problem) -> HTTPResponse {
    try context.admit(work: count + matrix.K * matrix.K)
    let input = UnsafeBufferPointer(start: data.assumingMemoryBound(to: T.self), count: count)
    var random = RandomState(seed: UInt32(seed))
    let sameLayout = MemoryLayout<T>.size == dtype.size && (!dtype.bigEndian || dtype.size == 1)
    if npyAnswer && sameLayout {
      var flipped = 0
      var failure: NoiseGenerationError?
      let response = response(
        count: count, dtype: dtype, seed: seed, flipped: { flipped },
        fill: { out in
          let output = UnsafeMutableBufferPointer(
            start: out.assumingMemoryBound(to: T.self), count: count)
          do throws(NoiseGenerationError) {
            flipped = try generateNoisyLabels(
              trueLabels: input, into: output, noiseMatrix: matrix, randomState: &random,
              cancellation: context.cancellation, threads: context.configuration.labelThreads)
          } catch {
            failure = error
          }
        })
      if let failure { throw Problem(failure, context, endpoint: .noisyLabels) }
      return response
    }
    var output = [T](repeating: 0, count: count)
    let flipped: Int
    do throws(NoiseGenerationError) {
      flipped = try output.withUnsafeMutableBufferPointer { (buffer) throws(NoiseGenerationError) in
        try generateNoisyLabels(
          trueLabels: input, into: buffer, noiseMatrix: matrix, randomState: &random,
          cancellation: context.cancellation, threads: context.configuration.labelThreads)
      }
    } catch {
      throw Problem(error, context, endpoint: .noisyLabels)
    }
    if npyAnswer {
      return response(
        count: count, dtype: dtype, seed: seed, flipped: flipped,
        fill: { out in
          for i in 0..<count { NPY.store(Int64(truncatingIfNeeded: output[i]), out, i, dtype) }
        })
    }
    var w = JSONWriter(capacity: 64 + count * 3)
    w.raw("{")
    w.key("noisy_labels")
    output.withUnsafeBufferPointer { w.integers($0) }
    w.raw(",")
    w.key("seed")
    w.integer(seed)
    w.raw(",")
    w.key("num_flipped")
    w.integer(flipped)
    w.raw("}")
    return .json(w)
  }

  /// An `.npy` answer: the header, then `fill` writes `count` elements of `dtype` at the pointer.
  static func response(
    count: Int, dtype: NPY.DType, seed: Int, flipped: () -> Int,
    fill: (UnsafeMutableRawPointer) -> Void
  ) -> HTTPResponse {
    let header = NPY.header(dtype: dtype, count: count)
    let size = header.count + count * dtype.size
    let buffer = malloc(Swift.max(size, 1))!
    header.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: header.count) }
    fill(buffer + header.count)
    return HTTPResponse(
      status: 200,
      headers: [
        ("Content-Type", "application/x-npy"), ("X-Seed", String(seed)),
        ("X-Num-Flipped", String(flipped())),
      ],
      body: ResponseBody(taking: buffer, count: size))
  }

  static func response(
    count: Int, dtype: NPY.DType, seed: Int, flipped: Int, fill: (UnsafeMutableRawPointer) -> Void
  ) -> HTTPResponse {
    response(count: count, dtype: dtype, seed: seed, flipped: { flipped }, fill: fill)
  }

  /// The `noise_matrix` part: an `.npy` 2-D array, or a JSON array of rows.
  static func noiseMatrix(_ part: RequestBody, _ context: RequestContext) throws(Problem)
    -> NoiseMatrix
  {
    let values: [Double]
    let rows: Int
    let columns: Int
    if NPY.looksLikeNPY(part.bytes) {
      do {
        (values, rows, columns) = try NPY.matrix(part.bytes)
      } catch {
        throw Problem(
          400, "malformed-npy", "The .npy file is malformed", "noise_matrix: \(error.description)",
          field: "noise_matrix")
      }
    } else {
      (values, rows, columns) = try RequestDecoder.matrixDocument(part, field: "noise_matrix")
    }
    return try Handlers.checkedNoiseMatrix(
      values, rows: rows, columns: columns, context, columnsSumToOne: true)
  }

  static func parseSeed(_ part: RequestBody) throws(Problem) -> Int {
    let text = String(decoding: part.bytes, as: UTF8.self).trimmingSpaces
      .trimmingCharacters(in: ["\r", "\n"])
    guard !text.isEmpty, text.count <= 20, text.allSatisfy({ $0.isASCII && $0.isNumber }),
      let seed = Int(text)
    else {
      throw Problem.notInteger(
        "seed", "the seed part must be a decimal integer, not \"\(text.prefix(24))\"")
    }
    return seed
  }
}

extension String {
  func trimmingCharacters(in set: Set<Character>) -> String {
    String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
  }
}

#if canImport(Glibc)
  import Glibc
#endif
