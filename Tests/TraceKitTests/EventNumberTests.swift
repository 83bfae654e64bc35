import Testing
import TraceKit

@Suite struct EventNumberTests {
    @Test("an event number displays as #N and orders by position")
    func displayAndOrder() {
        #expect(EventNumber(1834).description == "#1834")
        #expect(EventNumber(2) < EventNumber(10))
    }
}
