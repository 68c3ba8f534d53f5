#ifndef MFA_CLIBXML2_SHIM_H
#define MFA_CLIBXML2_SHIM_H

/*
 * libxml2's pull parser (xmlTextReader) for seed files: streaming, no tree. The reader is opened
 * without entity substitution, DTD loading or network access (mfa_xml_reader_options); documents
 * with a DOCTYPE are refused by the Swift side before any entity could be expanded.
 */
#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU; its headers would then pull in the system ICU headers, which
 * clash with Foundation's bundled ICU module. Nothing here uses libxml2's ICU parts. */
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

/* No entity substitution (no XML_PARSE_NOENT), no DTD loading or defaulted attributes, no network. */
static inline int mfa_xml_reader_options(void) {
    return XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
}

#endif
