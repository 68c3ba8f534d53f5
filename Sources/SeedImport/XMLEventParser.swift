import CLibXML2
import Foundation

/// libxml2's SAX2 parser over a document in memory, as a stream of element events: no tree, no
/// entity substitution, no DTD loading, no network (see `Sources/CLibXML2/shim.h`). About twice as
/// fast as libxml2's pull reader, which builds and frees a node for everything it reads.
final class XMLEventParser {
    enum Event {
        case start(name: String, namespace: String?)
        case end(name: String)
        /// Text or CDATA, possibly in several pieces.
        case text(String)
        /// A DOCTYPE, entity reference or entity declaration: refused by the handler.
        case forbidden(String)
    }

    /// The attributes of the element just started; valid only during its `.start` event.
    struct Attributes {
        fileprivate let base: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
        fileprivate let count: Int

        /// The value of the attribute with this local name (any namespace), or nil.
        func callAsFunction(_ name: String) -> String? {
            guard let base else { return nil }
            for i in 0..<count {
                // Five pointers per attribute: local name, prefix, URI, value start, value end.
                guard let local = base[5 * i], let start = base[5 * i + 3], let end = base[5 * i + 4] else { continue }
                if name.withCString({ strcmp($0, UnsafeRawPointer(local).assumingMemoryBound(to: CChar.self)) }) == 0 {
                    return String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
                }
            }
            return nil
        }
    }

    typealias Handler = (Event, Attributes) throws(SeedImportError) -> Void

    private var handler: Handler?
    private var failure: SeedImportError?
    private var message: String?
    /// Where the shim keeps the parser context during a parse: a slot of its own, since the
    /// callbacks read it while the parse call is still running.
    private let context = UnsafeMutablePointer<xmlParserCtxtPtr?>.allocate(capacity: 1)
    /// Names and namespace URIs come from the parser's dictionary, one pointer per distinct string:
    /// each becomes a Swift string once, not once per element.
    private var interned: [UnsafePointer<xmlChar>: String] = [:]

    /// The line the parser is at (for messages; meaningful during ``parse(_:handler:)``).
    var line: Int { Int(mfa_xml_line(context.pointee)) }

    init() { context.initialize(to: nil) }

    deinit { context.deallocate() }

    /// Parses `bytes`, calling `handler` for every event in document order. The first error the
    /// handler throws stops the parse and is rethrown; a document that is not well-formed throws
    /// ``SeedImportError/Code/malformedXML``.
    func parse(_ bytes: UnsafeRawBufferPointer, handler: @escaping Handler) throws(SeedImportError) {
        guard let base = bytes.baseAddress, bytes.count < Int(Int32.max) else {
            throw SeedImportError(.malformedXML, "the file cannot be opened as XML")
        }
        self.handler = handler
        defer { self.handler = nil }
        var sax = xmlSAXHandler()
        sax.initialized = UInt32(XML_SAX2_MAGIC)
        sax.startElementNs = { user, name, _, uri, _, _, attributeCount, _, attributes in
            let parser = XMLEventParser.from(user)
            parser.deliver(.start(name: parser.intern(name) ?? "", namespace: parser.intern(uri)),
                           Attributes(base: attributes, count: Int(attributeCount)))
        }
        sax.endElementNs = { user, name, _, _ in
            let parser = XMLEventParser.from(user)
            parser.deliver(.end(name: parser.intern(name) ?? ""))
        }
        sax.characters = { user, text, length in
            guard let text else { return }
            XMLEventParser.from(user).deliver(.text(String(decoding: UnsafeBufferPointer(start: text, count: Int(length)), as: UTF8.self)))
        }
        sax.reference = { user, _ in
            XMLEventParser.from(user).deliver(.forbidden("an entity reference (entities are not accepted in seed files)"))
        }
        sax.internalSubset = { user, _, _, _ in
            XMLEventParser.from(user).deliver(.forbidden("a DOCTYPE (DTDs are not accepted in seed files)"))
        }
        sax.entityDecl = { user, _, _, _, _, _ in
            XMLEventParser.from(user).deliver(.forbidden("an entity declaration"))
        }
        sax.serror = { user, error in
            guard let user, let message = error?.pointee.message else { return }
            let parser = XMLEventParser.from(user)
            if parser.message == nil { parser.message = "near line \(error!.pointee.line): " + String(cString: message).trimmingWhitespace }
        }
        let result = withExtendedLifetime(self) {
            mfa_xml_sax_parse(base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), &sax, Unmanaged.passUnretained(self).toOpaque(), context)
        }
        if let failure { throw failure }
        guard result == 0 else {
            throw SeedImportError(.malformedXML, "malformed XML \(message ?? "(not well-formed)")")
        }
    }

    private static func from(_ user: UnsafeMutableRawPointer?) -> XMLEventParser {
        Unmanaged<XMLEventParser>.fromOpaque(user!).takeUnretainedValue()
    }

    private func deliver(_ event: Event, _ attributes: Attributes = Attributes(base: nil, count: 0)) {
        guard failure == nil, let handler else { return }
        do throws(SeedImportError) {
            try handler(event, attributes)
        } catch {
            failure = error
            mfa_xml_stop(context.pointee)
        }
    }

    private func intern(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        guard let pointer else { return nil }
        // Checked, not trusted: should a pointer ever be reused for another string, it is re-read.
        if let known = interned[pointer] {
            let length = strlen(pointer)
            if known.utf8.count == length, known.utf8.withContiguousStorageIfAvailable({ memcmp($0.baseAddress!, pointer, length) == 0 }) == true {
                return known
            }
        }
        let name = String(cString: pointer)
        // A hostile file could hold endless distinct names: stop remembering, keep working.
        if interned.count < 1024 { interned[pointer] = name }
        return name
    }
}

extension String {
    var trimmingWhitespace: String {
        // XML's whitespace (space, tab, CR, LF), scanned as bytes: Character-wise trimming
        // (grapheme breaking) was a visible part of parsing a large seed file.
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        if first == bytes.startIndex && bytes.index(after: last) == bytes.endIndex { return self }
        return String(self[first...last])
    }
}
