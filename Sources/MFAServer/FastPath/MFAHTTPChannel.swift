import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The server's HTTP/1 connection, laid out here with public API only (Hummingbird's `HTTP1Channel`
/// does the same for its own pipeline, which is not a contract to insert into):
///
/// `[TLS] → VerifyFastPath (bytes) → NIO's encoder and decoder → ConnectionGuard →
/// HTTP1ToHTTPServerCodec → HTTPConnectionStateHandler → NIOAsyncChannel` → Hummingbird's responder.
///
/// ``VerifyFastPath`` answers ordinary verifies from the bytes (or, turned off, passes every byte on,
/// still dropping what follows a tunnel request); ``ConnectionGuard`` keeps the deadlines and sees
/// every request NIO decodes and every response Hummingbird writes. Hummingbird's connection state
/// handler and responder serve the rest exactly as they would in `HTTP1Channel`.
struct MFAHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let shared: VerifyFastPath.Shared
    let limits: ConnectionLimits

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let state = ConnectionState(limits: limits)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(VerifyFastPath(shared, state: state))
            // Hummingbird's choices in HTTP1Channel: NIOAsyncChannel orders the pipelined requests,
            // Application handles errors, HTTPTypes has validated the headers.
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: Self.decoderLimits)
            try pipeline.addHandler(ConnectionGuard(state))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }

    /// Hummingbird's defaults: 80 KiB per header field and for all of them, 1 000 fields.
    static let decoderLimits: NIOHTTPDecoderLimitConfiguration = {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = 80 * 1024
        limits.maxHeaderListSize = 80 * 1024
        limits.maxHeaderFieldCount = 1_000
        return limits
    }()
}
