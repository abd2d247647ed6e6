import Foundation
import Glibc
import Synchronization
import Testing

@testable import NoiseService

/// The real server, in process, on an ephemeral loopback port, driven over sockets.
@Suite("HTTP server", .serialized)
struct ServerTests {
  @Test("every endpoint over a keep-alive connection")
  func endpoints() throws {
    try withServer { server in
      let client = try TestHTTPClient(port: server.port)
      let health = try client.request("GET", "/healthz")
      #expect(health.status == 200 && health.text == #"{"status":"ok"}"#)
      let requests: [(String, String)] = [
        ("/noise-matrix", #"{"K": 3, "trace": 2.1, "py": [0.3, 0.3, 0.4], "seed": 1}"#),
        (
          "/noisy-labels",
          #"{"true_labels": [0, 0, 1, 1], "noise_matrix": [[0.5, 0.5], [0.5, 0.5]], "seed": 2}"#
        ),
        ("/validate", #"{"noise_matrix": [[0.8, 0.2], [0.2, 0.8]], "py": [0.5, 0.5]}"#),
        ("/probabilities", #"{"n": 3, "m": 1}"#),
        ("/balls-into-bins", #"{"N": 9, "K": 3}"#),
      ]
      for (path, body) in requests {
        let response = try client.request("POST", path, body: body)
        #expect(response.status == 200, "\(path): \(response.text)")
        #expect(response.headers["content-type"] == "application/json")
      }
      let spec = try client.request("GET", "/openapi.yaml")
      #expect(spec.status == 200 && spec.text.hasPrefix("openapi: 3.1.0"))
      let metrics = try client.request("GET", "/metrics")
      #expect(
        metrics.text.contains(
          #"noise_service_requests_total{route="/noise-matrix",method="POST",status="200"} 1"#))
      #expect(metrics.text.contains("noise_service_connections 1"))
    }
  }

  @Test("404, and 405 with an Allow header")
  func routing() throws {
    try withServer { server in
      let client = try TestHTTPClient(port: server.port)
      let missing = try client.request("POST", "/nope", body: "{}")
      #expect(missing.status == 404)
      #expect(missing.headers["content-type"] == "application/problem+json")
      let wrong = try client.request("DELETE", "/validate")
      #expect(wrong.status == 405)
      #expect(wrong.headers["allow"] == "POST")
    }
  }

  @Test("413 from Content-Length before the body is read")
  func tooLargeDeclared() throws {
    try withServer(testConfiguration { $0.maxBodyBytes = 1000 }) { server in
      let client = try TestHTTPClient(port: server.port)
      // only the headers are sent: the answer must come without the body
      try client.sendRaw(
        Array("POST /noisy-labels HTTP/1.1\r\nHost: x\r\nContent-Length: 10737418240\r\n\r\n".utf8))
      let response = try client.readResponse()
      #expect(response.status == 413)
      #expect(
        try response.json()["type"] as? String
          == "https://noise-service.dev/problems/body-too-large")
    }
  }

  @Test("413 for a chunked body past the limit; a client that keeps sending is cut off")
  func tooLargeChunked() throws {
    try withServer(testConfiguration { $0.maxBodyBytes = 100_000 }) { server in
      let chunk =
        Array("4000\r\n".utf8) + [UInt8](repeating: 0x20, count: 0x4000) + Array("\r\n".utf8)
      let head = Array(
        "POST /noisy-labels HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
      // 128 KiB, then the end of the body: answered 413
      let client = try TestHTTPClient(port: server.port)
      try client.sendRaw(head)
      for _ in 0..<8 { try client.sendRaw(chunk) }
      try client.sendRaw(Array("0\r\n\r\n".utf8))
      let response = try client.readResponse()
      #expect(response.status == 413)
      #expect(server.service.budget.inUse == 0)
      // 4 MiB and counting: the connection is closed, memory stays bounded
      let flood = try TestHTTPClient(port: server.port)
      try flood.sendRaw(head)
      var closed = false
      for _ in 0..<256 {
        do { try flood.sendRaw(chunk) } catch {
          closed = true
          break
        }
        #expect(server.service.budget.inUse <= 200_000)
      }
      if !closed { closed = (try? flood.readResponse()) == nil }
      #expect(closed)
      // and the server is fine
      #expect(try TestHTTPClient(port: server.port).request("GET", "/healthz").status == 200)
    }
  }

  @Test("a long request does not stall /healthz")
  func longRequestAndHealth() throws {
    try withServer(
      testConfiguration {
        $0.threads = 2
        $0.requestTimeout = 1.5
      }
    ) { server in
      let finished = Locked<Int?>(nil)
      let thread = Thread {
        var py = [Double](repeating: 0, count: 400)
        py[0] = 1
        let client = try! TestHTTPClient(port: server.port)
        // every attempt is invalid: it runs until the deadline
        let response = try? client.request(
          "POST", "/noise-matrix",
          body: #"{"K": 400, "trace": 200, "py": \#(py), "max_iter": 1000000}"#)
        finished.withLock { $0 = response?.status ?? -1 }
      }
      thread.start()
      while server.requestsInFlight == 0 { usleep(1_000) }
      usleep(100_000)
      let client = try TestHTTPClient(port: server.port)
      var worst = Duration.zero
      for _ in 0..<10 {
        let start = ContinuousClock.now
        let response = try client.request("GET", "/healthz")
        worst = max(worst, ContinuousClock.now - start)
        #expect(response.status == 200)
        usleep(20_000)
      }
      #expect(finished.withLock { $0 } == nil, "the long request was still running")
      #expect(worst < .milliseconds(100), "healthz took \(worst)")
      while finished.withLock({ $0 }) == nil { usleep(10_000) }
      #expect(finished.withLock { $0 } == 503)
    }
  }

  @Test("64 requests over 8 connections answer byte-identically to the same requests sent serially")
  func parallelEqualsSerial() throws {
    let bodies: [(String, String)] = (0..<64).map { i in
      switch i % 4 {
      case 0:
        return (
          "/noise-matrix",
          #"{"K": \#(3 + i % 7), "trace": \#(2.0 + Double(i % 5) * 0.3), "py": \#([Double](repeating: 1.0 / Double(3 + i % 7), count: 3 + i % 7)), "seed": \#(i)}"#
        )
      case 1:
        return ("/probabilities", #"{"n": \#(10 + i), "m": 1.5, "max_prob": 0.5, "seed": \#(i)}"#)
      case 2: return ("/balls-into-bins", #"{"N": \#(100 + i), "K": \#(5 + i % 3), "seed": \#(i)}"#)
      default:
        let labels = (0..<2000).map { ($0 * 7 + i) % 4 }
        return (
          "/noisy-labels",
          #"{"true_labels": \#(labels), "noise_matrix": [[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7]], "seed": \#(i)}"#
        )
      }
    }
    try withServer(testConfiguration { $0.threads = 4 }) { server in
      let serialClient = try TestHTTPClient(port: server.port)
      let serial = try bodies.map { try serialClient.request("POST", $0.0, body: $0.1).body }
      let results = Locked([[UInt8]?](repeating: nil, count: bodies.count))
      let group = DispatchGroup()
      for connection in 0..<8 {
        group.enter()
        Thread {
          defer { group.leave() }
          guard let client = try? TestHTTPClient(port: server.port) else { return }
          for i in stride(from: connection, to: bodies.count, by: 8) {
            let body = try? client.request("POST", bodies[i].0, body: bodies[i].1).body
            results.withLock { $0[i] = body }
          }
        }.start()
      }
      group.wait()
      let parallel = results.withLock { $0 }
      for i in 0..<bodies.count {
        #expect(parallel[i] == serial[i], "request \(i) \(bodies[i].0)")
      }
      #expect(serial.allSatisfy { $0.count > 10 })
    }
  }

  @Test("shutdown lets a request in flight finish, then refuses connections")
  func shutdownDrains() throws {
    let service = try Service(configuration: testConfiguration())
    let server = HTTPServer(service: service)
    try server.start()
    let port = server.port
    let answer = Locked<Int?>(nil)
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      defer { done.signal() }
      let client = try! TestHTTPClient(port: port)
      var py = [Double](repeating: 0, count: 200)
      py[0] = 1
      let response = try? client.request(
        "POST", "/noise-matrix", body: #"{"K": 200, "trace": 100, "py": \#(py), "max_iter": 15}"#)
      answer.withLock { $0 = response?.status }
    }
    thread.start()
    while server.requestsInFlight == 0 { usleep(1_000) }
    let drained = server.shutdown(grace: .seconds(30))
    #expect(drained)
    // the answer was fully sent before the request counted as finished; the client may still be
    // reading it
    #expect(done.wait(timeout: .now() + 30) == .success)
    #expect(answer.withLock { $0 } == 200)
    #expect(throws: (any Error).self) { try TestHTTPClient(port: port) }
  }
}
