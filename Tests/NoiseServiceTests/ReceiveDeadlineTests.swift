import Testing

@testable import NoiseService

@Suite("Receive deadline")
struct ReceiveDeadlineTests {
  @Test("only connections waiting past the timeout are cut, once each")
  func sweep() {
    let cut = Locked<[Int32]>([])
    let deadline = ReceiveDeadline(timeout: .seconds(10)) { socket in
      cut.withLock { $0.append(socket) }
    }
    let start = ContinuousClock.now
    let waiting = deadline.opened(socket: 7)
    let computing = deadline.opened(socket: 8)
    let gone = deadline.opened(socket: 9)
    deadline.received(computing)
    deadline.closed(gone)
    #expect(deadline.sweep(now: start + .seconds(5)) == 0)
    #expect(deadline.sweep(now: start + .seconds(11)) == 1)
    #expect(deadline.sweep(now: start + .seconds(12)) == 0, "a cut connection is not cut again")
    #expect(cut.withLock { $0 } == [7])
    // an answer restarts the clock
    deadline.answered(computing)
    #expect(deadline.sweep(now: .now + .seconds(5)) == 0)
    #expect(deadline.sweep(now: .now + .seconds(11)) == 1)
    #expect(cut.withLock { $0 } == [7, 8])
    #expect(waiting != computing && waiting != 0)
  }
}
