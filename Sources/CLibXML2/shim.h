#ifndef MFA_CLIBXML2_SHIM_H
#define MFA_CLIBXML2_SHIM_H

/*
 * libxml2's SAX2 parser for seed files: streaming, no tree. Documents are parsed without entity
 * substitution, DTD loading or network access (mfa_xml_options); documents with a DOCTYPE or an
 * entity declaration are refused by the Swift side before parsing starts.
 */
#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU; its headers would then pull in the system ICU headers, which
 * clash with Foundation's bundled ICU module. Nothing here uses libxml2's ICU parts. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

/* No entity substitution (no XML_PARSE_NOENT), no DTD loading or defaulted attributes, no network;
 * CDATA arrives as text. */
static inline int mfa_xml_options(void) {
    return XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
}

/*
 * Parses `size` bytes at `buffer` with the SAX2 callbacks of `sax`, which get `user` as their
 * context. While parsing, `*parser` is the parser context (for mfa_xml_stop and mfa_xml_line from
 * inside a callback); NULL before and after. Returns 0 for a well-formed document, 1 for a
 * malformed or stopped one, -1 when no parser could be made.
 */
static inline int mfa_xml_sax_parse(const char *buffer, int size, xmlSAXHandler *sax, void *user, xmlParserCtxtPtr *parser) {
    xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(buffer, size);
    if (ctxt == NULL) return -1;
    xmlCtxtUseOptions(ctxt, mfa_xml_options());
    xmlSAXHandlerPtr defaults = ctxt->sax;
    ctxt->sax = sax;
    ctxt->userData = user;
    *parser = ctxt;
    xmlParseDocument(ctxt);
    int result = (ctxt->wellFormed && !ctxt->disableSAX) ? 0 : 1;
    *parser = NULL;
    ctxt->sax = defaults;
    xmlFreeParserCtxt(ctxt);
    return result;
}

/* Stops the parse from inside a callback. */
static inline void mfa_xml_stop(xmlParserCtxtPtr ctxt) { if (ctxt) xmlStopParser(ctxt); }

/* The line the parser is at. */
static inline int mfa_xml_line(xmlParserCtxtPtr ctxt) { return (ctxt && ctxt->input) ? ctxt->input->line : 0; }

#endif
