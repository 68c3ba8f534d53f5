#include "ct_grind.h"

#if defined(__has_include)
#  if __has_include(<valgrind/memcheck.h>)
#    include <valgrind/memcheck.h>
#    define MFA_HAVE_MEMCHECK 1
#  endif
#endif

void mfa_ct_secret(const void *p, size_t len) {
#ifdef MFA_HAVE_MEMCHECK
    VALGRIND_MAKE_MEM_UNDEFINED(p, len);
#else
    (void)p; (void)len;
#endif
}

void mfa_ct_declassify(const void *p, size_t len) {
#ifdef MFA_HAVE_MEMCHECK
    VALGRIND_MAKE_MEM_DEFINED(p, len);
#else
    (void)p; (void)len;
#endif
}

int mfa_ct_instrumented(void) {
#ifdef MFA_HAVE_MEMCHECK
    return 1;
#else
    return 0;
#endif
}

int mfa_ct_running_on_valgrind(void) {
#ifdef MFA_HAVE_MEMCHECK
    return RUNNING_ON_VALGRIND ? 1 : 0;
#else
    return 0;
#endif
}
