import Foundation
import NoiseGeneration
import Testing

@testable import NoiseService

/// The handlers called without a socket: every endpoint, and every row of the error table.
@Suite("Handlers")
struct HandlerTests {
  @Test("/noise-matrix equals the library bit for bit")
  func noiseMatrix() throws {
    let response = try post(
      "/noise-matrix",
      #"{"K": 4, "trace": 2.5, "py": [0.1, 0.2, 0.3, 0.4], "seed": 17, "frac_zero_noise_rates": 0.3}"#
    )
    #expect(response.status == 200)
    #expect(response.header("Content-Type") == "application/json")
    let body = try json(response)
    let rows = try #require(body["noise_matrix"] as? [Any]).map { try #require($0 as? [Double]) }
    let expected = try generateNoiseMatrixFromTrace(
      K: 4, trace: 2.5, py: [0.1, 0.2, 0.3, 0.4], fracZeroNoiseRates: 0.3, seed: 17
    ).matrix!
    #expect(rows.flatMap { $0 }.map(\.bitPattern) == expected.entries.map(\.bitPattern))
    #expect(body["seed"] as? Int == 17)
    #expect(body["iterations"] as? Int == 1)
  }

  @Test("/noise-matrix null when max_iter is exhausted")
  func noiseMatrixNull() throws {
    let body = try json(
      try post("/noise-matrix", #"{"K": 3, "trace": 2, "py": [0.1, 0.1, 0.1], "max_iter": 3}"#))
    #expect(body["noise_matrix"] is NSNull)
    #expect(body["iterations"] as? Int == 3)
  }

  @Test("/noisy-labels, /probabilities, /balls-into-bins, /validate equal the library")
  func otherEndpoints() throws {
    let matrix = "[[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]]"
    var labels = [Int]()
    for i in 0..<300 { labels.append(i % 3) }
    let response = try post(
      "/noisy-labels", #"{"true_labels": \#(labels), "noise_matrix": \#(matrix), "seed": 5}"#)
    let body = try json(response)
    var random = RandomState(seed: UInt32(5))
    let expected = try generateNoisyLabels(
      trueLabels: labels,
      noiseMatrix: try NoiseMatrix(rows: [[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]]),
      randomState: &random)
    #expect(body["noisy_labels"] as? [Int] == expected.labels)
    #expect(body["num_flipped"] as? Int == expected.numFlipped)

    let probabilities = try json(
      try post("/probabilities", #"{"n": 5, "m": 2, "max_prob": 0.5, "seed": 9}"#))
    var r2 = RandomState(seed: UInt32(9))
    let p = try generateNRandProbabilitiesThatSumToM(n: 5, m: 2, maxProb: 0.5, randomState: &r2)
    #expect((probabilities["probabilities"] as? [Double])?.map(\.bitPattern) == p.map(\.bitPattern))

    let balls = try json(
      try post("/balls-into-bins", #"{"N": 50, "K": 7, "max_balls_per_bin": 9, "seed": 4}"#))
    var r3 = RandomState(seed: UInt32(4))
    #expect(
      balls["counts"] as? [Int]
        == (try randomlyDistributeNBallsIntoKBins(N: 50, K: 7, maxBallsPerBin: 9, randomState: &r3))
    )

    let valid = try json(
      try post("/validate", #"{"noise_matrix": \#(matrix), "py": [0.3, 0.3, 0.4]}"#))
    #expect(valid["valid"] as? Bool == true)
  }

  @Test("/validate explains why a matrix is not valid")
  func validateReasons() throws {
    let unlearnable = try json(
      try post(
        "/validate",
        #"{"noise_matrix": [[0.1, 0.45, 0.45], [0.45, 0.1, 0.45], [0.45, 0.45, 0.1]], "py": [0.1, 0.3, 0.6]}"#
      ))
    #expect(unlearnable["valid"] as? Bool == false)
    #expect(unlearnable["reason"] as? String == "not_learnable")
    #expect(unlearnable["class"] as? Int == 0)
    // columns not summing to 1: 200 with valid false, as cleanlab returns False
    let columns = try post(
      "/validate", #"{"noise_matrix": [[0.5, 0.1], [0.1, 0.5]], "py": [0.5, 0.5]}"#)
    #expect(columns.status == 200)
    let body = try json(columns)
    #expect(body["valid"] as? Bool == false)
    #expect(body["reason"] as? String == "joint_does_not_sum_to_one")
    #expect(body["columns_not_summing_to_one"] as? [Int] == [0, 1])
    let prior = try json(
      try post("/validate", #"{"noise_matrix": [[0.9, 0.1], [0.1, 0.9]], "py": [0.5, 0.6]}"#))
    #expect(prior["valid"] as? Bool == false)
    #expect((prior["detail"] as? String)?.contains("py sums to") == true)
  }

  /// (body, status, slug, field)
  static let endpointErrors: [(String, String, Int, String, String?)] = [
    ("/probabilities", "", 400, "malformed-json", nil),
    ("/probabilities", "   \n", 400, "malformed-json", nil),
    ("/probabilities", #"{"n": 3, "m": 1"#, 400, "malformed-json", nil),
    ("/probabilities", #"{"n": 3, "m": 1} trailing"#, 400, "malformed-json", nil),
    ("/probabilities", #"{"n": 3, "m": NaN}"#, 400, "invalid-number", "m"),
    ("/probabilities", #"{"n": 3, "m": Infinity}"#, 400, "invalid-number", "m"),
    ("/probabilities", #"{"n": 3, "m": -Infinity}"#, 400, "invalid-number", "m"),
    ("/probabilities", "\u{FEFF}{\"n\": 3, \"m\": 1}", 400, "malformed-json", nil),
    ("/probabilities", "[1, 2]", 400, "not-an-object", nil),
    ("/probabilities", "42", 400, "not-an-object", nil),
    ("/probabilities", #"{"n": "3", "m": 1}"#, 400, "wrong-type", "n"),
    ("/probabilities", #"{"n": true, "m": 1}"#, 400, "wrong-type", "n"),
    ("/probabilities", #"{"n": [[3]], "m": 1}"#, 400, "wrong-type", "n"),
    ("/probabilities", #"{"n": 3, "mm": 1}"#, 400, "unknown-field", "mm"),
    ("/probabilities", #"{"n": 3, "n": 4, "m": 1}"#, 400, "duplicate-field", "n"),
    ("/probabilities", #"{"n": 3.5, "m": 1}"#, 400, "not-an-integer", "n"),
    ("/probabilities", #"{"n": 3, "m": 1e400}"#, 400, "invalid-number", "m"),
    ("/probabilities", #"{"m": 1}"#, 400, "missing-field", "n"),
    ("/probabilities", #"{"n": 3, "m": 1, "seed": -1}"#, 422, "invalid-value", "seed"),
    ("/probabilities", #"{"n": 3, "m": 1, "seed": 4294967296}"#, 422, "invalid-value", "seed"),
    (
      "/probabilities", #"{"n": 3, "m": 1, "seed": 9223372036854775808}"#, 422, "invalid-value",
      "seed"
    ),
    (
      "/probabilities", #"{"n": 3, "m": 1, "seed": -9223372036854775809}"#, 422, "invalid-value",
      "seed"
    ),
    (
      "/probabilities", #"{"n": 3, "m": 1, "seed": -99999999999999999999999}"#, 422,
      "invalid-value", "seed"
    ),
    (
      "/probabilities", #"{"n": 5, "m": 1, "max_prob": 0.1}"#, 422, "cleanlab-value-error",
      "max_prob"
    ),
    (
      "/probabilities", #"{"n": 5, "m": 1, "min_prob": 0.9}"#, 422, "cleanlab-value-error",
      "min_prob"
    ),
    ("/noise-matrix", #"{"K": 3, "trace": 1}"#, 422, "cleanlab-value-error", "trace"),
    ("/noise-matrix", #"{"K": 3, "trace": 2}"#, 422, "cleanlab-value-error", "py"),
    (
      "/noise-matrix", #"{"K": 1, "trace": 2, "valid_noise_matrix": false}"#, 422,
      "cleanlab-value-error", "K"
    ),
    (
      "/noise-matrix", #"{"K": 1001, "trace": 2, "valid_noise_matrix": false}"#, 422,
      "invalid-value", "K"
    ),
    ("/noise-matrix", #"{"K": 3, "trace": 2, "py": [0.5, 0.5]}"#, 422, "invalid-value", "py"),
    ("/noise-matrix", #"{"K": 3, "trace": 2, "py": [-0.5, 0.5, 1]}"#, 422, "invalid-value", "py"),
    ("/noise-matrix", #"{"K": 3, "tracee": 2}"#, 400, "unknown-field", "tracee"),
    (
      "/noise-matrix", #"{"K": 3, "trace": 2, "valid_noise_matrix": 1}"#, 400, "wrong-type",
      "valid_noise_matrix"
    ),
    (
      "/noisy-labels", #"{"true_labels": [0, 3], "noise_matrix": [[1, 0], [0, 1]]}"#, 422,
      "invalid-value", "true_labels"
    ),
    (
      "/noisy-labels", #"{"true_labels": [0, -1], "noise_matrix": [[1, 0], [0, 1]]}"#, 422,
      "invalid-value", "true_labels"
    ),
    (
      "/noisy-labels", #"{"true_labels": [0, 1.5], "noise_matrix": [[1, 0], [0, 1]]}"#, 400,
      "not-an-integer", "true_labels"
    ),
    (
      "/noisy-labels",
      #"{"true_labels": [0, -9223372036854775809], "noise_matrix": [[1, 0], [0, 1]]}"#,
      422, "invalid-value", "true_labels"
    ),
    (
      "/noisy-labels",
      #"{"true_labels": [0, 18446744073709551616], "noise_matrix": [[1, 0], [0, 1]]}"#,
      422, "invalid-value", "true_labels"
    ),
    (
      "/noisy-labels", #"{"true_labels": [0, 01], "noise_matrix": [[1, 0], [0, 1]]}"#, 400,
      "invalid-number", "true_labels"
    ),
    (
      "/noisy-labels",
      #"{"true_labels": [0, 1], "noise_matrix": [[1, -9223372036854775809], [0, 1]]}"#,
      422, "invalid-value", "noise_matrix"
    ),
    (
      "/noisy-labels", #"{"true_labels": [0, 1], "noise_matrix": [[1, 0, 0], [0, 1, 0]]}"#, 422,
      "invalid-value", "noise_matrix"
    ),
    (
      "/noisy-labels", #"{"true_labels": [0, 1], "noise_matrix": [[1, 0], [0]]}"#, 422,
      "invalid-value", "noise_matrix"
    ),
    (
      "/noisy-labels", #"{"true_labels": [0, 1], "noise_matrix": [[1.5, 0], [-0.5, 1]]}"#, 422,
      "invalid-value", "noise_matrix"
    ),
    (
      "/noisy-labels", #"{"true_labels": [0, 1], "noise_matrix": [[0.5, 0], [0.4, 1]]}"#, 422,
      "invalid-value", "noise_matrix"
    ),
    (
      "/noisy-labels", #"{"true_labels": [0, 1], "noise_matrix": [[1, 0], ["0", 1]]}"#, 400,
      "wrong-type", "noise_matrix"
    ),
    ("/validate", #"{"noise_matrix": [[1, 0], [0, 1]], "py": [1]}"#, 422, "invalid-value", "py"),
    (
      "/validate", #"{"noise_matrix": [[1, 0], [0, 1]], "py": [1.5, -0.5]}"#, 422, "invalid-value",
      "py"
    ),
    ("/balls-into-bins", #"{"N": -3, "K": 2}"#, 422, "invalid-value", "N"),
    ("/balls-into-bins", #"{"N": 3, "K": 2000000}"#, 422, "invalid-value", "K"),
    (
      "/balls-into-bins", #"{"N": 3, "K": 2, "max_balls_per_bin": "x"}"#, 400, "wrong-type",
      "max_balls_per_bin"
    ),
  ]

  @Test(
    "every row of the error table is a problem+json with the right status",
    arguments: 0..<endpointErrors.count)
  func errors(_ index: Int) throws {
    let (path, body, status, slug, field) = Self.endpointErrors[index]
    let response = try post(path, body)
    #expect(response.status == status, "\(path) \(body)")
    #expect(response.header("Content-Type") == "application/problem+json")
    let problem = try json(response)
    #expect(
      problem["type"] as? String == "https://noise-service.dev/problems/\(slug)",
      "\(path) \(body): \(problem)")
    #expect(problem["status"] as? Int == status)
    #expect(problem["title"] is String && problem["detail"] is String)
    #expect(problem["field"] as? String == field, "\(path) \(body)")
    // never echo more than a short excerpt of the input
    #expect((problem["detail"] as? String ?? "").count < 400)
  }

  @Test("NaN and Infinity tokens are named, with the reason Python sends them")
  func nonFiniteTokens() throws {
    // scalars and array elements alike name their field; a bare token has none
    let cases: [(String, String, String, String?)] = [
      ("/probabilities", #"{"n": 3, "m": NaN}"#, "NaN", "m"),
      ("/probabilities", #"{"n": NaN, "m": 1}"#, "NaN", "n"),
      ("/noise-matrix", #"{"K": 3, "trace": 2, "py": NaN}"#, "NaN", "py"),
      (
        "/balls-into-bins", #"{"N": 3, "K": 2, "max_balls_per_bin": Infinity}"#, "Infinity",
        "max_balls_per_bin"
      ),
      ("/probabilities", "NaN", "NaN", nil),
      ("/probabilities", #"{"n": 3, "m": -Infinity}"#, "-Infinity", "m"),
      ("/validate", #"{"noise_matrix": [[1, 0], [0, 1]], "py": [0.5, NaN]}"#, "NaN", "py"),
      (
        "/validate", #"{"noise_matrix": [[1, Infinity], [0, 1]], "py": [1, 0]}"#, "Infinity",
        "noise_matrix"
      ),
    ]
    for (path, body, token, field) in cases {
      let problem = try json(try post(path, body))
      let detail = problem["detail"] as? String ?? ""
      #expect(problem["type"] as? String == "https://noise-service.dev/problems/invalid-number")
      #expect(problem["field"] as? String == field, "\(body)")
      #expect(detail.contains("holds \(token)") && detail.contains("allow_nan=False"), "\(detail)")
    }
  }

  @Test("invalid UTF-8 is a 400")
  func invalidUTF8() throws {
    let service = try Service(configuration: testConfiguration())
    var bytes = Array(#"{"n": 3, "m": 1, ""#.utf8)
    bytes += [0xff, 0xfe]
    bytes += Array(#"": 1}"#.utf8)
    let response = service.respond(
      to: HTTPRequest(method: "POST", path: "/probabilities", body: RequestBody(bytes))
    ).response
    #expect(response.status == 400)
    #expect((try json(response)["detail"] as? String)?.contains("UTF-8") == true)
  }

  @Test("cleanlab's messages distinguish int and float arguments")
  func pythonNumbers() throws {
    let int = try json(try post("/noise-matrix", #"{"K": 3, "trace": 1}"#))
    #expect((int["detail"] as? String)?.hasPrefix("trace = 1. ") == true)
    let float = try json(try post("/noise-matrix", #"{"K": 3, "trace": 1.0}"#))
    #expect((float["detail"] as? String)?.hasPrefix("trace = 1.0. ") == true)
    // 3.0 is accepted for an integer field
    #expect(try post("/probabilities", #"{"n": 3.0, "m": 1}"#).status == 200)
  }

  @Test("404 for unknown paths, 405 with Allow for wrong methods")
  func routing() throws {
    let service = try Service(configuration: testConfiguration())
    let missing = service.respond(to: HTTPRequest(method: "GET", path: "/nope")).response
    #expect(missing.status == 404)
    let wrong = service.respond(to: HTTPRequest(method: "GET", path: "/noise-matrix")).response
    #expect(wrong.status == 405)
    #expect(wrong.header("Allow") == "POST")
    let healthWrong = service.respond(to: HTTPRequest(method: "POST", path: "/healthz")).response
    #expect(healthWrong.status == 405)
    #expect(healthWrong.header("Allow") == "GET, HEAD")
    let health = service.respond(to: HTTPRequest(method: "GET", path: "/healthz")).response
    #expect(health.body.text == #"{"status":"ok"}"#)
    let spec = service.respond(to: HTTPRequest(method: "GET", path: "/openapi.yaml")).response
    #expect(spec.body.text.hasPrefix("openapi: 3.1"))
  }

  @Test("the deadline stops long work with a 503 that says so")
  func deadline() throws {
    let configuration = testConfiguration { $0.requestTimeout = 0.2 }
    var py = [Double](repeating: 0, count: 500)
    py[0] = 1
    let start = ContinuousClock.now
    let response = try post(
      "/noise-matrix", #"{"K": 500, "trace": 300, "py": \#(py), "max_iter": 1000000000}"#,
      configuration)
    #expect(response.status == 503)
    #expect((try json(response)["detail"] as? String)?.contains("deadline") == true)
    #expect(ContinuousClock.now - start < .seconds(5))
  }

  @Test("metrics count requests by route and status")
  func metrics() throws {
    let service = try Service(configuration: testConfiguration())
    service.metrics.requestStarted()
    service.metrics.requestFinished(
      route: "/validate", method: "POST", status: 200, seconds: 0.002, bytesIn: 10, bytesOut: 20)
    let text = service.respond(to: HTTPRequest(method: "GET", path: "/metrics")).response.body.text
    #expect(
      text.contains(
        #"noise_service_requests_total{route="/validate",method="POST",status="200"} 1"#))
    #expect(
      text.contains(
        #"noise_service_request_duration_seconds_bucket{route="/validate",le="0.0025"} 1"#))
    #expect(text.contains("noise_service_requests_in_flight 0"))
    #expect(text.contains("noise_service_request_bytes_total 10"))
    #expect(text.contains("noise_service_response_bytes_total 20"))
  }
}
