import Foundation
import TestSupport
import Testing

/// `CONNECT` and upgrades (issue 16, item 4): NIO's decoder parses nothing after them, so the server
/// answers that request and closes; no verify that follows on the connection is answered by either
/// path, and nothing that follows is kept in memory.
@Suite("Tunnels: after CONNECT or an upgrade the connection answers once and closes")
struct TunnelTests {
    typealias Connection = VerifyFastPathTests.Connection

    @Test("CONNECT, and Upgrade with Connection: upgrade, then pipelined verifies: one answer, then the end")
    func answeredThenClosed() async throws {
        let (server, _, _) = try await VerifyFastPathTests.warmedUp(enrolling: "tess", window: 1)
        let verify = VerifyFastPathTests.post("/v1/verify", token: server.token, body: VerifyFastPathTests.verifyBody("nobody", "000000"))
        let heads = [
            "CONNECT /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        ]
        for head in heads {
            let before = try await VerifyFastPathTests.fastPathCount(server)
            let connection = try Connection(server.url)
            // A verify the fast path answers first, then the tunnel, then more verifies in the same write.
            try connection.send(verify)
            #expect(try connection.reply().body == #"{"result":"rejected"}"#)
            try connection.send(head + verify + verify)
            let answer = try connection.reply()
            #expect(answer.status != 200 || head.hasPrefix("GET"), "\(head.debugDescription): \(answer)")
            #expect(!answer.body.contains("result"), "\(head.debugDescription): the verify after the tunnel was answered: \(answer)")
            #expect(connection.closedByPeer(), "\(head.debugDescription): the connection stayed open")
            await #expect(try VerifyFastPathTests.fastPathCount(server) == before + VerifyFastPathTests.fastPathAnswers(1), "\(head.debugDescription)")
        }
        // Bytes sent after a CONNECT are not kept: a megabyte after it, and the server still serves.
        let connection = try Connection(server.url)
        try connection.send(heads[0])
        _ = try connection.reply()
        // (The server may close while these are on their way: a failed send is the expected end.)
        _ = connection.trySend(String(repeating: "x", count: 1 << 20))
        let fresh = try Connection(server.url)
        try fresh.send(VerifyFastPathTests.get("/healthz"))
        #expect(try fresh.reply().status == 200)
    }
}
