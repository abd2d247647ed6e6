import Glibc
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

@Suite("Compute slots")
struct AdmissionTests {
  @Test("heavy work waits for a slot until its deadline; light work never waits")
  func admission() {
    let gate = ComputeGate(slots: 1)
    let holder = Admission(gate: gate, deadline: .now + .seconds(60))
    #expect(holder.admit(work: Admission.lightWork + 1))

    let light = Admission(gate: gate, deadline: .now + .seconds(60))
    let started = ContinuousClock.now
    #expect(light.admit(work: Admission.lightWork))
    #expect(ContinuousClock.now - started < .milliseconds(50))
    #expect(!light.shouldStop(), "a request is light for its first milliseconds")

    let waiter = Admission(gate: gate, deadline: .now + .milliseconds(200))
    #expect(!waiter.admit(work: Admission.lightWork + 1))
    #expect(waiter.starved)
    #expect(ContinuousClock.now - started >= .milliseconds(200))

    // light work that keeps running past lightTime needs the slot too; it is still held
    let outgrown = Admission(gate: gate, deadline: .now + .milliseconds(300))
    #expect(outgrown.admit(work: 1))
    usleep(10_000)
    #expect(outgrown.shouldStop())
    #expect(outgrown.starved)

    holder.finish()
    let next = Admission(gate: gate, deadline: .now + .milliseconds(100))
    #expect(next.admit(work: Int.max))
    #expect(!next.shouldStop())
    next.finish()
    light.finish()
  }
}
