import CSimdJSON
import Glibc
import NoiseGeneration

/// Decodes request bodies into the request values of each endpoint. The only file that touches
/// simdjson.
///
/// Strict by design: a body must be one JSON object, in UTF-8 without a byte order mark, with
/// no trailing bytes; every field must be one of the endpoint's, at most once, with the right
/// JSON type. Integer fields accept integral floats (`3.0`) but not fractions. Failures are
/// 400 problems naming the field, with a short excerpt of the input near the error. Numbers are
/// read as doubles or int64 exactly as Python's `json` would read them, and a JSON integer
/// stays a Python int (which cleanlab's messages print differently from floats).
public enum RequestDecoder {
  public static func noiseMatrix(_ body: RequestBody) throws(Problem) -> NoiseMatrixRequest {
    var r = try ObjectReader(body)
    defer { r.close() }
    var K: Int?
    var trace: PythonNumber?
    var request = NoiseMatrixRequest(K: 0, trace: 0)
    while let field = try r.nextField(allowed: NoiseMatrixRequest.fields) {
      switch field {
      case "K": K = try r.integer(field)
      case "trace": trace = try r.number(field)
      case "max_trace_prob": request.maxTraceProb = try r.number(field)
      case "min_trace_prob": request.minTraceProb = try r.double(field)
      case "max_noise_rate": request.maxNoiseRate = try r.number(field)
      case "min_noise_rate": request.minNoiseRate = try r.double(field)
      case "valid_noise_matrix": request.validNoiseMatrix = try r.boolean(field)
      case "py": request.py = try r.isNull(field) ? nil : try r.doubleArray(field)
      case "frac_zero_noise_rates": request.fracZeroNoiseRates = try r.double(field)
      case "seed": request.seed = try r.integer(field)
      default: request.maxIter = try r.integer(field)
      }
    }
    guard let K else { throw Problem.missingField("K") }
    guard let trace else { throw Problem.missingField("trace") }
    request.K = K
    request.trace = trace
    return request
  }

  public static func noisyLabels(_ body: RequestBody) throws(Problem) -> NoisyLabelsRequest {
    var r = try ObjectReader(body)
    defer { r.close() }
    var labels: [Int32]?
    var matrix: (values: [Double], rows: Int, columns: Int)?
    var seed = 0
    while let field = try r.nextField(allowed: NoisyLabelsRequest.fields) {
      switch field {
      case "true_labels": labels = try r.labelArray(field)
      case "noise_matrix": matrix = try r.matrix(field)
      default: seed = try r.integer(field)
      }
    }
    guard let labels else { throw Problem.missingField("true_labels") }
    guard let matrix else { throw Problem.missingField("noise_matrix") }
    return NoisyLabelsRequest(
      trueLabels: labels, noiseMatrix: matrix.values, rows: matrix.rows, columns: matrix.columns,
      seed: seed)
  }

  public static func validate(_ body: RequestBody) throws(Problem) -> ValidateRequest {
    var r = try ObjectReader(body)
    defer { r.close() }
    var matrix: (values: [Double], rows: Int, columns: Int)?
    var py: [Double]?
    while let field = try r.nextField(allowed: ValidateRequest.fields) {
      switch field {
      case "noise_matrix": matrix = try r.matrix(field)
      default: py = try r.doubleArray(field)
      }
    }
    guard let matrix else { throw Problem.missingField("noise_matrix") }
    guard let py else { throw Problem.missingField("py") }
    return ValidateRequest(
      noiseMatrix: matrix.values, rows: matrix.rows, columns: matrix.columns, py: py)
  }

  public static func probabilities(_ body: RequestBody) throws(Problem) -> ProbabilitiesRequest {
    var r = try ObjectReader(body)
    defer { r.close() }
    var n: Int?
    var m: PythonNumber?
    var request = ProbabilitiesRequest(n: 0, m: 0)
    while let field = try r.nextField(allowed: ProbabilitiesRequest.fields) {
      switch field {
      case "n": n = try r.integer(field)
      case "m": m = try r.number(field)
      case "max_prob": request.maxProb = try r.number(field)
      case "min_prob": request.minProb = try r.double(field)
      default: request.seed = try r.integer(field)
      }
    }
    guard let n else { throw Problem.missingField("n") }
    guard let m else { throw Problem.missingField("m") }
    request.n = n
    request.m = m
    return request
  }

  public static func balls(_ body: RequestBody) throws(Problem) -> BallsRequest {
    var r = try ObjectReader(body)
    defer { r.close() }
    var N: Int?
    var K: Int?
    var request = BallsRequest(N: 0, K: 0)
    while let field = try r.nextField(allowed: BallsRequest.fields) {
      switch field {
      case "N": N = try r.integer(field)
      case "K": K = try r.integer(field)
      case "max_balls_per_bin":
        request.maxBallsPerBin = try r.isNull(field) ? nil : try r.integer(field)
      case "min_balls_per_bin":
        request.minBallsPerBin = try r.isNull(field) ? nil : try r.integer(field)
      default: request.seed = try r.integer(field)
      }
    }
    guard let N else { throw Problem.missingField("N") }
    guard let K else { throw Problem.missingField("K") }
    request.N = N
    request.K = K
    return request
  }

  /// `POST /batch`: `{"requests": [{"path": "/noise-matrix", "body": {...}}, ...]}`. Each
  /// item's body is returned as its own `RequestBody`, decoded later by the item's endpoint, so
  /// that one malformed item fails alone. `itemProblems` holds items that are not even objects
  /// with a `path` string and a `body`.
  public static func batch(_ body: RequestBody, maxItems: Int) throws(Problem) -> [BatchItem] {
    var r = try ObjectReader(body)
    defer { r.close() }
    var items: [BatchItem]?
    while let field = try r.nextField(allowed: ["requests"]) {
      var count = 0
      try r.check(CSimdJSON_array_count(r.parser, &count, &r.error), field)
      if count > maxItems {
        throw Problem.invalidValue(
          field, "a batch holds at most \(maxItems) requests (--max-batch-items), this one \(count)"
        )
      }
      var list: [BatchItem] = []
      list.reserveCapacity(count)
      try r.check(CSimdJSON_array_begin(r.parser, &r.error), field)
      while true {
        var text: UnsafePointer<CChar>?
        var length = 0
        let status = CSimdJSON_array_next_raw(r.parser, &text, &length, &r.error)
        if status == 0 { break }
        if status < 0 { throw r.problem(field: field) }
        if status == 2 {
          list.append(
            BatchItem(
              path: "", body: RequestBody(),
              problem: Problem.wrongType(
                "requests", "requests[\(list.count)] must be an object with \"path\" and \"body\""))
          )
          continue
        }
        let raw = UnsafeRawBufferPointer(start: UnsafeRawPointer(text!), count: length)
        list.append(batchItem(raw, index: list.count))
      }
      items = list
    }
    guard let items else { throw Problem.missingField("requests") }
    return items
  }

  static func batchItem(_ raw: UnsafeRawBufferPointer, index: Int) -> BatchItem {
    let itemBody = RequestBody(capacity: raw.count)
    itemBody.append(raw)
    do throws(Problem) {
      var r = try ObjectReader(itemBody)
      defer { r.close() }
      var path: String?
      var body: RequestBody?
      while let field = try r.nextField(allowed: ["path", "body"]) {
        if field == "path" {
          path = try r.string(field)
        } else {
          var type: Int32 = 0
          try r.check(CSimdJSON_type(r.parser, &type, &r.error), field)
          if type != Int32(CSimdJSON_TYPE_OBJECT.rawValue) {
            throw Problem.wrongType(field, "\"body\" must be a JSON object")
          }
          var text: UnsafePointer<CChar>?
          var length = 0
          try r.check(CSimdJSON_raw(r.parser, &text, &length, &r.error), field)
          let copy = RequestBody(capacity: length)
          copy.append(UnsafeRawBufferPointer(start: UnsafeRawPointer(text!), count: length))
          body = copy
        }
      }
      guard let path else { throw Problem.missingField("path") }
      return BatchItem(path: path, body: body ?? RequestBody([UInt8]("{}".utf8)), problem: nil)
    } catch {
      var problem = error
      problem.detail = "requests[\(index)]: " + problem.detail
      return BatchItem(path: "", body: RequestBody(), problem: problem)
    }
  }

  /// A bare JSON matrix (the `noise_matrix` part of a multipart body): the text is read as the
  /// value of a one-field object, so the same checks and messages apply.
  public static func matrixDocument(_ part: RequestBody, field: String) throws(Problem)
    -> (values: [Double], rows: Int, columns: Int)
  {
    let wrapped = RequestBody(capacity: part.count + field.utf8.count + 8)
    wrapped.append(Array("{\"\(field)\":".utf8))
    wrapped.append(part.bytes)
    wrapped.append(Array("}".utf8))
    var r = try ObjectReader(wrapped)
    defer { r.close() }
    var matrix: (values: [Double], rows: Int, columns: Int)?
    while let name = try r.nextField(allowed: [field]) { matrix = try r.matrix(name) }
    guard let matrix else { throw Problem.missingField(field) }
    return matrix
  }

  /// Runs a C++ smoke test of the parser at start-up: the padding contract holds.
  public static func selfCheck() -> Bool {
    CSimdJSON_padding() <= RequestBody.padding
  }
}

/// One item of a `/batch` request.
public struct BatchItem: Sendable {
  public var path: String
  public var body: RequestBody
  /// Set when the item itself is malformed (not an object, no `path`).
  public var problem: Problem?
}

/// simdjson parsers, one cached per thread: each holds buffers sized to the largest document it
/// has parsed, so reuse saves their allocation, and a per-thread cache needs no lock (with one
/// thread per connection, a shared pool's lock was contended). Parsers grown past 256 KiB are
/// freed after use, and a thread's parser is freed when the thread ends, so memory stays bounded.
final class ParserPool: Sendable {
  static let shared = ParserPool()
  private let key: pthread_key_t
  private static let keepLimit = 256 << 10

  init() {
    var key = pthread_key_t()
    pthread_key_create(&key) { parser in
      if let parser { CSimdJSON_parser_destroy(OpaquePointer(parser)) }
    }
    self.key = key
  }

  func acquire() -> OpaquePointer? {
    if let cached = pthread_getspecific(key) {
      pthread_setspecific(key, nil)
      return OpaquePointer(cached)
    }
    return CSimdJSON_parser_create()
  }

  func release(_ parser: OpaquePointer) {
    if CSimdJSON_parser_capacity(parser) > Self.keepLimit || pthread_getspecific(key) != nil {
      CSimdJSON_parser_destroy(parser)
      return
    }
    pthread_setspecific(key, UnsafeRawPointer(parser))
  }
}

/// Walks the fields of a body's root object.
struct ObjectReader {
  let parser: OpaquePointer
  let body: RequestBody
  var error = CSimdJSON_Error()
  private var seen: Set<String> = []
  private var released = false

  init(_ body: RequestBody) throws(Problem) {
    self.body = body
    let bytes = body.bytes
    if bytes.count >= 3 && bytes[0] == 0xef && bytes[1] == 0xbb && bytes[2] == 0xbf {
      throw Problem.malformed(
        "the body starts with a UTF-8 byte order mark, which JSON forbids here")
    }
    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) {
      throw Problem.malformed("the body is empty; send a JSON object")
    }
    guard let parser = ParserPool.shared.acquire() else {
      throw Problem.busy("cannot allocate a JSON parser")
    }
    self.parser = parser
    let status = CSimdJSON_begin(
      parser, body.base.assumingMemoryBound(to: CChar.self), body.count,
      body.count + RequestBody.padding, &error)
    if status != 0 {
      let problem = self.problem(field: nil)
      ParserPool.shared.release(parser)
      released = true
      throw problem
    }
  }

  mutating func close() {
    if !released {
      ParserPool.shared.release(parser)
      released = true
    }
  }

  /// The next field's name, nil at the end. Unknown and repeated names are 400s.
  mutating func nextField(allowed: [String]) throws(Problem) -> String? {
    var key: UnsafePointer<CChar>?
    var length = 0
    let status = CSimdJSON_next_field(parser, &key, &length, &error)
    if status == 0 { return nil }
    if status < 0 { throw problem(field: nil) }
    let name = String(
      decoding: UnsafeRawBufferPointer(start: UnsafeRawPointer(key!), count: length), as: UTF8.self)
    guard allowed.contains(name) else {
      throw Problem.unknownField(String(name.prefix(64)), allowed: allowed)
    }
    guard seen.insert(name).inserted else { throw Problem.duplicateField(name) }
    return name
  }

  mutating func check(_ status: Int32, _ field: String?) throws(Problem) {
    if status != 0 { throw problem(field: field) }
  }

  /// The current value's type; `field` names it in the problem when the value is not JSON
  /// (a `NaN` token fails here).
  func type(_ field: String) throws(Problem) -> Int32 {
    var type: Int32 = 0
    var e = error
    if CSimdJSON_type(parser, &type, &e) != 0 {
      throw problem(field: field, error: e)
    }
    return type
  }

  /// Consumes a `null` and returns true, or returns false leaving the value.
  mutating func isNull(_ field: String) throws(Problem) -> Bool {
    guard try type(field) == Int32(CSimdJSON_TYPE_NULL.rawValue) else { return false }
    try check(CSimdJSON_null(parser, &error), field)
    return true
  }

  mutating func expect(_ expected: CSimdJSON_Type, _ field: String, _ description: String)
    throws(Problem)
  {
    let actual = try type(field)
    if actual != Int32(expected.rawValue) {
      throw Problem.wrongType(
        field, "\"\(field)\" must be \(description), not \(Self.typeName(actual))")
    }
  }

  static func typeName(_ type: Int32) -> String {
    switch UInt32(type) {
    case CSimdJSON_TYPE_OBJECT.rawValue: return "an object"
    case CSimdJSON_TYPE_ARRAY.rawValue: return "an array"
    case CSimdJSON_TYPE_NUMBER.rawValue: return "a number"
    case CSimdJSON_TYPE_STRING.rawValue: return "a string"
    case CSimdJSON_TYPE_BOOLEAN.rawValue: return "a boolean"
    default: return "null"
    }
  }

  /// A number, keeping whether it was written as an integer (a Python int) or not.
  mutating func number(_ field: String) throws(Problem) -> PythonNumber {
    try expect(CSimdJSON_TYPE_NUMBER, field, "a number")
    var value = 0.0
    var integer: Int64 = 0
    var kind: Int32 = 0
    try check(CSimdJSON_number(parser, &value, &integer, &kind, &error), field)
    if kind == Int32(CSimdJSON_NUMBER_INT64.rawValue) { return .int(Int(integer)) }
    if kind == Int32(CSimdJSON_NUMBER_BIG.rawValue) {
      throw Problem.invalidValue(
        field, "\"\(field)\" = \(pythonRepr(value)) is too large an integer")
    }
    return .float(value)
  }

  mutating func double(_ field: String) throws(Problem) -> Double {
    try number(field).value
  }

  /// An integer: an integer literal, or a float literal without a fractional part (`3.0`).
  mutating func integer(_ field: String) throws(Problem) -> Int {
    try expect(CSimdJSON_TYPE_NUMBER, field, "an integer")
    var value = 0.0
    var integer: Int64 = 0
    var kind: Int32 = 0
    try check(CSimdJSON_number(parser, &value, &integer, &kind, &error), field)
    if kind == Int32(CSimdJSON_NUMBER_INT64.rawValue) { return Int(integer) }
    if kind == Int32(CSimdJSON_NUMBER_BIG.rawValue) {
      throw Problem.invalidValue(field, "\"\(field)\" = \(pythonRepr(value)) is out of range")
    }
    if value != value.rounded(.towardZero) {
      throw Problem.notInteger(field, "\"\(field)\" must be an integer, not \(pythonRepr(value))")
    }
    guard value >= -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0 else {
      throw Problem.invalidValue(field, "\"\(field)\" = \(pythonRepr(value)) is out of range")
    }
    return Int(value)
  }

  mutating func boolean(_ field: String) throws(Problem) -> Bool {
    try expect(CSimdJSON_TYPE_BOOLEAN, field, "true or false")
    var value = false
    try check(CSimdJSON_boolean(parser, &value, &error), field)
    return value
  }

  mutating func string(_ field: String) throws(Problem) -> String {
    try expect(CSimdJSON_TYPE_STRING, field, "a string")
    var text: UnsafePointer<CChar>?
    var length = 0
    try check(CSimdJSON_string(parser, &text, &length, &error), field)
    return String(
      decoding: UnsafeRawBufferPointer(start: UnsafeRawPointer(text!), count: length), as: UTF8.self
    )
  }

  mutating func doubleArray(_ field: String) throws(Problem) -> [Double] {
    if try type(field) == Int32(CSimdJSON_TYPE_OBJECT.rawValue) {
      let array = try encodedArray(field)
      guard array.shape.count == 1 else {
        throw Problem.invalidValue(field, "\"\(field)\" must be 1-D, its shape is \(array.shape)")
      }
      return array.values
    }
    try expect(CSimdJSON_TYPE_ARRAY, field, "an array of numbers")
    var count = 0
    try check(CSimdJSON_array_count(parser, &count, &error), field)
    var read = 0
    var status: Int32 = 0
    var e = error
    let values = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
      status = CSimdJSON_double_array(parser, buffer.baseAddress, count, &read, &e)
      initialized = status == 0 ? read : 0
    }
    error = e
    try check(status, field)
    return values
  }

  /// An array of integer labels, held as Int32 (labels beyond that range are rejected later as
  /// outside 0...K-1 anyway).
  mutating func labelArray(_ field: String) throws(Problem) -> [Int32] {
    try expect(CSimdJSON_TYPE_ARRAY, field, "an array of integer labels")
    var count = 0
    try check(CSimdJSON_array_count(parser, &count, &error), field)
    var read = 0
    var status: Int32 = 0
    var e = error
    let values = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
      status = CSimdJSON_int32_array(
        parser, buffer.baseAddress, count, &read, Int32.min, Int32.max, &e)
      initialized = status == 0 ? read : 0
    }
    error = e
    if status == Int32(CSimdJSON_INTEGER_RANGE.rawValue) {
      throw Problem.invalidValue(
        field, "\(field)[\(error.index)] is outside the range of class labels")
    }
    try check(status, field)
    return values
  }

  /// A matrix: an array of rows, each an array of numbers. Must be square; the number of rows
  /// bounds the memory used before the shape is known.
  mutating func matrix(_ field: String) throws(Problem) -> (
    values: [Double], rows: Int, columns: Int
  ) {
    if try type(field) == Int32(CSimdJSON_TYPE_OBJECT.rawValue) {
      let array = try encodedArray(field)
      guard array.shape.count == 2 else {
        throw Problem.invalidValue(field, "\"\(field)\" must be 2-D, its shape is \(array.shape)")
      }
      guard array.shape[0] <= NoiseMatrix.maxClasses else {
        throw Problem.invalidValue(
          field, "\"\(field)\" has \(array.shape[0]) rows; K is at most \(NoiseMatrix.maxClasses)")
      }
      return (array.values, array.shape[0], array.shape[1])
    }
    try expect(CSimdJSON_TYPE_ARRAY, field, "an array of rows (arrays of numbers)")
    var rows = 0
    try check(CSimdJSON_array_count(parser, &rows, &error), field)
    guard rows <= NoiseMatrix.maxClasses else {
      throw Problem.invalidValue(
        field, "\"\(field)\" has \(rows) rows; K is at most \(NoiseMatrix.maxClasses)")
    }
    let capacity = rows * rows
    var read = (rows: 0, columns: 0)
    var status: Int32 = 0
    var e = error
    let values = [Double](unsafeUninitializedCapacity: capacity) { buffer, initialized in
      status = CSimdJSON_double_matrix(
        parser, buffer.baseAddress, capacity, &read.rows, &read.columns, &e)
      initialized = status == 0 ? read.rows * read.columns : 0
    }
    error = e
    if status == Int32(CSimdJSON_RAGGED.rawValue) || (status == Int32(CSimdJSON_INTERNAL.rawValue))
    {
      throw Problem.invalidValue(
        field, "\"\(field)\" must be a K×K matrix; row \(error.index) has a different length")
    }
    try check(status, field)
    return (values, read.rows, read.columns)
  }

  /// The binary form of a numeric array, `{"dtype": "<f8", "shape": [K, K], "base64": "..."}`:
  /// the C-order bytes of the array, base64-encoded, with a numpy dtype string as in `.npy`
  /// headers. It spares Python clients formatting and parsing thousands of floats.
  mutating func encodedArray(_ field: String) throws(Problem) -> (values: [Double], shape: [Int]) {
    let object = try rawObject(field)
    let inner = RequestBody(capacity: object.count)
    inner.append(object)
    var r = try ObjectReader(inner)
    defer { r.close() }
    var dtype: NPY.DType?
    var shape: [Int]?
    var payload: [UInt8]?
    while let name = try r.nextField(allowed: ["dtype", "shape", "base64"]) {
      switch name {
      case "dtype":
        do {
          dtype = try NPY.DType.parse(try r.string("\(field).dtype"))
        } catch let error as NPYError {
          throw Problem.invalidValue(field, "\(field).dtype: \(error.description)")
        } catch {
          throw Problem.invalidValue(field, "\(field).dtype is not a numeric dtype")
        }
      case "shape":
        let dimensions = try r.doubleArray("\(field).shape")
        guard dimensions.allSatisfy({ $0 >= 0 && $0 == $0.rounded() && $0 <= 1e9 }) else {
          throw Problem.invalidValue(field, "\(field).shape must be non-negative integers")
        }
        shape = dimensions.map { Int($0) }
      default:
        guard let decoded = Base64.decode(try r.string("\(field).base64")) else {
          throw Problem.invalidValue(field, "\(field).base64 is not valid base64")
        }
        payload = decoded
      }
    }
    guard let dtype, let shape, let payload else {
      throw Problem.invalidValue(
        field, "\"\(field)\" as an object needs \"dtype\", \"shape\" and \"base64\"")
    }
    var count = 1
    for dimension in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
      guard !overflow else { throw Problem.invalidValue(field, "\(field).shape is too large") }
      count = product
    }
    guard count * dtype.size == payload.count else {
      throw Problem.invalidValue(
        field,
        "\(field): shape \(shape) of \(dtype.descr) needs \(count * dtype.size) bytes, base64 gives \(payload.count)"
      )
    }
    let values = payload.withUnsafeBytes { raw -> [Double] in
      if dtype == NPY.DType(kind: .float, size: 8, bigEndian: false) {
        return [Double](unsafeUninitializedCapacity: count) { out, initialized in
          if count > 0 {
            UnsafeMutableRawPointer(out.baseAddress!).copyMemory(
              from: raw.baseAddress!, byteCount: count * 8)
          }
          initialized = count
        }
      }
      return (0..<count).map { NPY.double(raw.baseAddress!, $0, dtype) }
    }
    guard values.allSatisfy({ $0.isFinite }) else {
      throw Problem.badNumber(field, "\(field) holds NaN or infinity")
    }
    return (values, shape)
  }

  /// The raw JSON text of the current value, which must be an object.
  mutating func rawObject(_ field: String) throws(Problem) -> UnsafeRawBufferPointer {
    var text: UnsafePointer<CChar>?
    var length = 0
    try check(CSimdJSON_raw(parser, &text, &length, &error), field)
    return UnsafeRawBufferPointer(start: UnsafeRawPointer(text!), count: length)
  }

  /// `NaN`, `Infinity` or `-Infinity` when the body holds that token at `offset`.
  func nonFiniteToken(at offset: Int) -> String? {
    for token in ["NaN", "Infinity", "-Infinity"] {
      let end = offset + token.utf8.count
      if end <= body.count, body.bytes[offset..<end].elementsEqual(token.utf8) { return token }
    }
    return nil
  }

  /// The 400 problem for the parser's last error.
  func problem(field: String?, error: CSimdJSON_Error? = nil) -> Problem {
    let e = error ?? self.error
    // SIZE_MAX arrives as -1: unknown
    let offset: Int? = e.offset >= 0 && e.offset <= body.count ? e.offset : nil
    let excerpt = offset.map { body.excerpt(around: $0) } ?? ""
    let near = excerpt.isEmpty ? "" : " near \"\(excerpt)\""
    let position = offset.map { " at byte \($0)" } ?? ""
    var element = ""
    if e.index >= 0, let field {
      element = e.column >= 0 ? " at \(field)[\(e.index)][\(e.column)]" : " at \(field)[\(e.index)]"
    }
    let subject = field.map { "\"\($0)\"" } ?? "the body"
    // simdjson reports a NaN or Infinity token as a bad number or, as a scalar, as malformed
    func nonFinite() -> Problem? {
      offset.flatMap(nonFiniteToken(at:)).map { token in
        Problem.badNumber(
          field,
          "\(subject) holds \(token)\(element), which is not JSON (Python's json.dumps writes NaN"
            + " and Infinity unless allow_nan=False)\(near)")
      }
    }
    switch UInt32(e.code) {
    case CSimdJSON_UTF8.rawValue:
      return Problem.malformed("the body is not valid UTF-8\(position)")
    case CSimdJSON_NOT_OBJECT.rawValue:
      return Problem.notAnObject("the body is not a JSON object\(near)")
    case CSimdJSON_WRONG_TYPE.rawValue:
      return Problem.wrongType(
        field ?? "",
        "\(subject) has a value of the wrong type\(element) (or nesting deeper than the schema allows)\(near)"
      )
    case CSimdJSON_BAD_NUMBER.rawValue:
      if let nonFinite = nonFinite() { return nonFinite }
      return Problem.badNumber(
        field,
        "\(subject) holds a malformed number or one outside the range of a double\(element)\(near)")
    case CSimdJSON_NOT_INTEGER.rawValue:
      return Problem.notInteger(field ?? "", "\(subject) must hold integers\(element)\(near)")
    case CSimdJSON_INTEGER_RANGE.rawValue:
      return Problem.invalidValue(field, "\(subject) holds an integer out of range\(element)")
    case CSimdJSON_TRAILING.rawValue:
      return Problem.malformed("unexpected content after the JSON object\(position)\(near)")
    case CSimdJSON_DEPTH.rawValue:
      return Problem.malformed("the JSON nests deeper than allowed\(position)")
    case CSimdJSON_MEMORY.rawValue:
      return Problem.busy("not enough memory to parse the body")
    default:
      if let nonFinite = nonFinite() { return nonFinite }
      return Problem.malformed("malformed JSON\(position)\(near)")
    }
  }
}
