#ifndef MFA_CPCSCLITE_SHIM_H
#define MFA_CPCSCLITE_SHIM_H
/*
 * pcsc-lite. Never re-declare its structs in Swift: on Linux SCARD_READERSTATE is not packed and uses
 * unsigned long fields (stride 80), SCARD_IO_REQUEST is 16 bytes. SCARD_PCI_T0/T1 are macros over the
 * exported g_rgSCardT0Pci/g_rgSCardT1Pci, which Swift cannot import: use the accessors below.
 */
#include <winscard.h>
#include <wintypes.h>
#include <pcsclite.h>

static inline const SCARD_IO_REQUEST *mfa_pcsc_pci_t0(void) { return &g_rgSCardT0Pci; }
static inline const SCARD_IO_REQUEST *mfa_pcsc_pci_t1(void) { return &g_rgSCardT1Pci; }
static inline const SCARD_IO_REQUEST *mfa_pcsc_pci_raw(void) { return &g_rgSCardRawPci; }
#endif
