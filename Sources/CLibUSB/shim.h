/*
 * libusb-1.0 for Swift. The include path comes from pkg-config (libusb-1.0), so <libusb.h> is found
 * in /usr/include/libusb-1.0.
 *
 * libusb_set_option is variadic, which Swift cannot call: each option the project uses gets a
 * fixed-argument wrapper here.
 */
#ifndef MFA_CLIBUSB_SHIM_H
#define MFA_CLIBUSB_SHIM_H

#include <libusb.h>

/* LIBUSB_OPTION_LOG_LEVEL with one of LIBUSB_LOG_LEVEL_*. */
static inline int mfa_libusb_set_log_level(libusb_context *ctx, int level) {
    return libusb_set_option(ctx, LIBUSB_OPTION_LOG_LEVEL, level);
}

/* The libusb version as major.minor.micro packed into one integer (major << 16 | minor << 8 | micro). */
static inline unsigned int mfa_libusb_version_code(void) {
    const struct libusb_version *v = libusb_get_version();
    return ((unsigned int)v->major << 16) | ((unsigned int)v->minor << 8) | (unsigned int)v->micro;
}

#endif
