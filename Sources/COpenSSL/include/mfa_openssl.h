#ifndef MFA_OPENSSL_H
#define MFA_OPENSSL_H

/*
 * libcrypto for the OTP core.
 *
 * HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)). For a fixed key the digest states after the
 * first block of each hash ("inner" and "outer" state) never change, so they are computed once per
 * secret here (mfa_hmac_key_schedule) and every code then costs exactly two calls of OpenSSL's
 * compression function (SHA1_Transform / SHA256_Transform / SHA512_Transform, which dispatch to
 * SHA-NI / AVX2 code). Those entry points are deprecated in OpenSSL 3 in favour of EVP; we use them
 * deliberately, because EVP_MAC cannot resume from a precomputed state without a context copy and
 * allocation per code. The tests compare every result with OpenSSL's own HMAC().
 *
 * Nothing here branches on or indexes memory by secret data.
 *
 * Declarations only (the code is in mfa_openssl.c), so the Swift modules that import this see a
 * C interface and the C is compiled once, as C, with its own warnings.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

enum {
    MFA_HASH_SHA1 = 1,
    MFA_HASH_SHA256 = 2,
    MFA_HASH_SHA512 = 3,
};

/* Bytes of one digest state (the largest, SHA-512: 8 x 64-bit words). */
#define MFA_HMAC_STATE_BYTES 64
/* Bytes of the largest MAC (SHA-512). */
#define MFA_HMAC_MAX_MAC_BYTES 64

/*
 * Computes the inner and outer HMAC states of `key` (keys longer than the block are hashed first,
 * shorter ones zero-padded, as RFC 2104). Returns 1 on success, 0 on an unknown algorithm.
 */
int mfa_hmac_key_schedule(int alg, const uint8_t *key, size_t key_len, void *istate, void *ostate);

/*
 * A scan: the per-call working memory of a run of HMACs over one key schedule, with both message
 * blocks padded once (only the counter and the inner digest change from code to code). Lives on the
 * caller's stack; nothing is allocated per code.
 */
typedef struct {
    union {
        SHA_CTX sha1;
        SHA256_CTX sha256;
        SHA512_CTX sha512;
    } ctx;
    uint8_t inner[128] __attribute__((aligned(16)));
    uint8_t outer[128] __attribute__((aligned(16)));
} mfa_hmac_lane;

/* Two lanes: two codes are computed with their compressions interleaved (inner, inner, outer, outer),
 * which lets the CPU overlap the two independent dependency chains (about +15% on SHA-NI). */
typedef struct {
    int alg;
    const void *istate;
    const void *ostate;
    mfa_hmac_lane lane[2];
} mfa_hmac_scan;

/* Prepares `scan` for codes over the key schedule `istate`/`ostate` (mfa_hmac_key_schedule), which
 * must outlive it; wipe it with mfa_hmac_scan_wipe when done. */
void mfa_hmac_scan_init(mfa_hmac_scan *scan, int alg, const void *istate, const void *ostate);

/* Wipes the scan's copies of secret-derived data. */
void mfa_hmac_scan_wipe(mfa_hmac_scan *scan);

/* HMAC of one 8-byte big-endian `counter`: exactly two compressions. words[0..4] are the MAC's first
 * five big-endian 32-bit words (bytes 0-19, all that dynamic truncation can read), words[5] its last byte. */
void mfa_hmac_scan_words(mfa_hmac_scan *scan, uint64_t counter, uint32_t words[6]);

/* HMACs of two counters, compressions interleaved; words[0..5] for c0, words[6..11] for c1. */
void mfa_hmac_scan_words2(mfa_hmac_scan *scan, uint64_t c0, uint64_t c1, uint32_t words[12]);

/* The whole MAC (20, 32 or 64 bytes) of `counter`, for tests and diagnostics. */
void mfa_hmac_counter(int alg, const void *istate, const void *ostate, uint64_t counter, uint8_t *mac);

/*
 * AES-256-GCM through EVP: seal writes ciphertext (same length as plaintext) and a 16-byte tag;
 * open verifies the tag (EVP_DecryptFinal_ex) and returns 0 on any mismatch. 12-byte nonces.
 */
int mfa_aes256gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                       const uint8_t *plaintext, size_t len, uint8_t *ciphertext, uint8_t tag[16]);

int mfa_aes256gcm_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                       const uint8_t *ciphertext, size_t len, const uint8_t tag[16], uint8_t *plaintext);

/* Reference one-shot HMAC through OpenSSL's own HMAC() (EVP), for tests and cross-checks. */
int mfa_reference_hmac(int alg, const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                       uint8_t *out, unsigned int *out_len);

/*
 * Seed-file transport crypto (PSKC, RFC 6030): AES-CBC with PKCS#7 padding (128/192/256-bit keys,
 * the IV in front of the ciphertext as XML Encryption does), AES key unwrap (RFC 3394), PBKDF2 with
 * an HMAC PRF, and HMAC with SHA-1/256/512 (mfa_reference_hmac). All through EVP.
 * Returns 1 on success, 0 on any failure (bad key length, bad padding, integrity check of the unwrap).
 */

/* Decrypts `len` bytes (IV || ciphertext) into `out` (at least len bytes); *out_len is the plaintext length. */
int mfa_aes_cbc_decrypt(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

/* Encrypts `len` bytes with PKCS#7 padding under `iv` (16 bytes); writes IV || ciphertext (len + 32 bytes room). */
int mfa_aes_cbc_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[16], const uint8_t *in, size_t len,
                        uint8_t *out, size_t *out_len);

/* AES key unwrap: RFC 3394 (default IV), or with `pad` RFC 5649 (alternative IV, padded plaintext).
 * `len` wrapped bytes into at most len - 8 plaintext bytes. */
int mfa_aes_key_unwrap(const uint8_t *key, size_t key_len, int pad, const uint8_t *in, size_t len, uint8_t *out,
                       size_t *out_len);

/* AES key wrap (RFC 3394, default IV): `len` (multiple of 8, >= 16) bytes into len + 8 bytes. */
int mfa_aes_key_wrap(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

/* PBKDF2 with HMAC-SHA1/256/512 as the PRF. */
int mfa_pbkdf2(int alg, const uint8_t *password, size_t password_len, const uint8_t *salt, size_t salt_len,
               unsigned iterations, uint8_t *out, size_t out_len);

/* SHA-256 over a stream of chunks (file fingerprints). */
typedef struct { SHA256_CTX ctx; } mfa_sha256_stream;
void mfa_sha256_stream_init(mfa_sha256_stream *s);
void mfa_sha256_stream_update(mfa_sha256_stream *s, const uint8_t *data, size_t len);
void mfa_sha256_stream_final(mfa_sha256_stream *s, uint8_t out[32]);

#endif
