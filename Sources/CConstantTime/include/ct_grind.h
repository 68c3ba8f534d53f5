#ifndef MFA_CT_GRIND_H
#define MFA_CT_GRIND_H
#include <stddef.h>
#include <stdint.h>

/*
 * Constant-time instrumentation points.
 *
 * mfa_ct_secret marks bytes as secret; mfa_ct_declassify marks them public again. Under valgrind
 * memcheck, "secret" means "undefined": any branch or memory index that depends on a secret byte is
 * then reported as an error, which is how CI proves the window check and the resync search free of
 * secret-dependent control flow and memory access. Outside valgrind both are a few no-op
 * instructions (valgrind's client-request sequence), so production code and checked code are the same.
 */

/* Marks `len` bytes at `p` secret (undefined under memcheck). */
void mfa_ct_secret(const void *p, size_t len);
/* Marks `len` bytes at `p` public again (defined under memcheck): the one place a result leaves secrecy. */
void mfa_ct_declassify(const void *p, size_t len);
/* 1 when the valgrind client requests were compiled in, 0 if the header was missing at build time. */
int mfa_ct_instrumented(void);
/* 1 when running under valgrind. */
int mfa_ct_running_on_valgrind(void);


/*
 * Value barriers: return their argument unchanged, but the empty asm hides from the optimizer that a
 * mask can only be 0 or all ones, so it cannot turn mask arithmetic back into a branch or a cmov on a
 * secret (which LLVM does otherwise: the valgrind check caught `js`/`je` on the reduced code).
 */
static inline uint32_t mfa_ct_barrier_u32(uint32_t value) {
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(value) : :);
#endif
    return value;
}
static inline uint64_t mfa_ct_barrier_u64(uint64_t value) {
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(value) : :);
#endif
    return value;
}

#endif
