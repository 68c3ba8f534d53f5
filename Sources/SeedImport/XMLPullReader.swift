import CLibXML2
import Foundation

/// A thin wrapper over libxml2's pull parser (`xmlTextReader`) reading from memory: node by node,
/// no tree, no entity substitution, no DTD loading, no network (see `Sources/CLibXML2/shim.h`).
final class XMLPullReader {
    enum Node {
        case start(name: String, namespace: String?, empty: Bool)
        case end(name: String)
        case text(String)
        /// A DOCTYPE, entity reference or entity declaration: refused by the caller.
        case forbidden(String)
    }

    private let reader: xmlTextReaderPtr
    /// Names and namespace URIs come from the parser's dictionary, one pointer per distinct string
    /// for the reader's whole life: each becomes a Swift string once, not once per element.
    private var interned: [UnsafePointer<xmlChar>: String] = [:]

    /// `bytes` must outlive the reader.
    init(bytes: UnsafeRawBufferPointer) throws(SeedImportError) {
        guard let base = bytes.baseAddress, bytes.count < Int(Int32.max),
            let reader = xmlReaderForMemory(base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil, nil, mfa_xml_reader_options())
        else { throw SeedImportError(.malformedXML, "the file cannot be opened as XML") }
        self.reader = reader
    }

    deinit { xmlFreeTextReader(reader) }

    /// The line the parser is at (for messages).
    var line: Int { Int(xmlTextReaderGetParserLineNumber(reader)) }

    /// The next node of interest, or nil at the end of the document.
    func next() throws(SeedImportError) -> Node? {
        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { return nil }
            guard status == 1 else {
                var detail = "not well-formed"
                if let error = xmlGetLastError(), let message = error.pointee.message {
                    detail = String(cString: message).trimmingWhitespace
                }
                throw SeedImportError(.malformedXML, "malformed XML near line \(line): \(detail)")
            }
            switch xmlTextReaderNodeType(reader) {
            case 1:  // element
                return .start(name: intern(xmlTextReaderConstLocalName(reader)) ?? "", namespace: intern(xmlTextReaderConstNamespaceUri(reader)),
                              empty: xmlTextReaderIsEmptyElement(reader) == 1)
            case 15:  // end element
                return .end(name: intern(xmlTextReaderConstLocalName(reader)) ?? "")
            case 3, 4:  // text, CDATA
                return .text(string(xmlTextReaderConstValue(reader)) ?? "")
            case 10: return .forbidden("a DOCTYPE (DTDs are not accepted in seed files)")
            case 5, 6: return .forbidden("an entity reference (entities are not accepted in seed files)")
            case 17: return .forbidden("an entity declaration")
            default: continue  // whitespace, comments, processing instructions, XML declaration
            }
        }
    }

    /// An attribute of the current element (by local name, any namespace).
    func attribute(_ name: String) -> String? {
        guard xmlTextReaderMoveToAttribute(reader, name) == 1 else { return nil }
        defer { xmlTextReaderMoveToElement(reader) }
        return string(xmlTextReaderConstValue(reader))
    }

    private func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private func intern(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        guard let pointer else { return nil }
        // Checked, not trusted: should a pointer ever be reused for another string, it is re-read.
        if let known = interned[pointer], known.utf8.elementsEqual(UnsafeBufferPointer(start: pointer, count: strlen(pointer))) { return known }
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
