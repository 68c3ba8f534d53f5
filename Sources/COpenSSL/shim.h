#ifndef MFA_COPENSSL_SHIM_H
#define MFA_COPENSSL_SHIM_H

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

static inline size_t mfa_hash_block_bytes(int alg) { return alg == MFA_HASH_SHA512 ? 128 : 64; }
static inline size_t mfa_hash_digest_bytes(int alg) {
    return alg == MFA_HASH_SHA1 ? 20 : (alg == MFA_HASH_SHA256 ? 32 : 64);
}

static inline void mfa_store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void mfa_store_be64(uint8_t *p, uint64_t v) {
    mfa_store_be32(p, (uint32_t)(v >> 32)); mfa_store_be32(p + 4, (uint32_t)v);
}
/* One compression of `block` into the state `h` (layout: SHA-1 5 x u32, SHA-256 8 x u32, SHA-512 8 x u64). */
static inline void mfa_sha1_compress(uint32_t *h, const uint8_t *block) {
    SHA_CTX c;
    c.h0 = h[0]; c.h1 = h[1]; c.h2 = h[2]; c.h3 = h[3]; c.h4 = h[4];
    SHA1_Transform(&c, block);
    h[0] = c.h0; h[1] = c.h1; h[2] = c.h2; h[3] = c.h3; h[4] = c.h4;
}
static inline void mfa_sha256_compress(uint32_t *h, const uint8_t *block) {
    SHA256_CTX c;
    memcpy(c.h, h, 32);
    SHA256_Transform(&c, block);
    memcpy(h, c.h, 32);
}
static inline void mfa_sha512_compress(uint64_t *h, const uint8_t *block) {
    SHA512_CTX c;
    memcpy(c.h, h, 64);
    SHA512_Transform(&c, block);
    memcpy(h, c.h, 64);
}

/* Initial (IV) state of each hash, taken from OpenSSL's *_Init. */
static inline void mfa_hash_initial_state(int alg, void *state) {
    if (alg == MFA_HASH_SHA1) {
        SHA_CTX c; SHA1_Init(&c);
        uint32_t *h = (uint32_t *)state; h[0] = c.h0; h[1] = c.h1; h[2] = c.h2; h[3] = c.h3; h[4] = c.h4;
    } else if (alg == MFA_HASH_SHA256) {
        SHA256_CTX c; SHA256_Init(&c); memcpy(state, c.h, 32);
    } else {
        SHA512_CTX c; SHA512_Init(&c); memcpy(state, c.h, 64);
    }
}

static inline void mfa_hash_compress(int alg, void *state, const uint8_t *block) {
    if (alg == MFA_HASH_SHA1) mfa_sha1_compress((uint32_t *)state, block);
    else if (alg == MFA_HASH_SHA256) mfa_sha256_compress((uint32_t *)state, block);
    else mfa_sha512_compress((uint64_t *)state, block);
}

/* Serialises a state big-endian into a digest. */
static inline void mfa_hash_state_bytes(int alg, const void *state, uint8_t *out) {
    if (alg == MFA_HASH_SHA512) {
        const uint64_t *h = (const uint64_t *)state;
        for (int i = 0; i < 8; i++) mfa_store_be64(out + 8 * i, h[i]);
    } else {
        const uint32_t *h = (const uint32_t *)state;
        int words = alg == MFA_HASH_SHA1 ? 5 : 8;
        for (int i = 0; i < words; i++) mfa_store_be32(out + 4 * i, h[i]);
    }
}

/*
 * Computes the inner and outer HMAC states of `key` (keys longer than the block are hashed first,
 * shorter ones zero-padded, as RFC 2104). Returns 1 on success, 0 on an unknown algorithm.
 */
static inline int mfa_hmac_key_schedule(int alg, const uint8_t *key, size_t key_len, void *istate, void *ostate) {
    if (alg != MFA_HASH_SHA1 && alg != MFA_HASH_SHA256 && alg != MFA_HASH_SHA512) return 0;
    uint8_t k[128];
    uint8_t pad[128];
    size_t block = mfa_hash_block_bytes(alg);
    memset(k, 0, sizeof k);
    if (key_len > block) {
        if (alg == MFA_HASH_SHA1) SHA1(key, key_len, k);
        else if (alg == MFA_HASH_SHA256) SHA256(key, key_len, k);
        else SHA512(key, key_len, k);
    } else if (key_len > 0) {
        memcpy(k, key, key_len);
    }
    for (size_t i = 0; i < block; i++) pad[i] = k[i] ^ 0x36;
    mfa_hash_initial_state(alg, istate);
    mfa_hash_compress(alg, istate, pad);
    for (size_t i = 0; i < block; i++) pad[i] = k[i] ^ 0x5c;
    mfa_hash_initial_state(alg, ostate);
    mfa_hash_compress(alg, ostate, pad);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    return 1;
}

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

static inline void mfa_hmac_scan_init(mfa_hmac_scan *scan, int alg, const void *istate, const void *ostate) {
    size_t bsize = mfa_hash_block_bytes(alg);
    size_t dsize = mfa_hash_digest_bytes(alg);
    scan->alg = alg;
    scan->istate = istate;
    scan->ostate = ostate;
    for (int l = 0; l < 2; l++) {
        mfa_hmac_lane *lane = &scan->lane[l];
        memset(&lane->ctx, 0, sizeof lane->ctx);
        /* inner: counter(8) || 0x80 || 0... || bit length of (key block + 8 bytes) */
        memset(lane->inner, 0, sizeof lane->inner);
        lane->inner[8] = 0x80;
        mfa_store_be64(lane->inner + bsize - 8, (uint64_t)(bsize + 8) * 8);
        /* outer: inner digest || 0x80 || 0... || bit length of (key block + digest) */
        memset(lane->outer, 0, sizeof lane->outer);
        lane->outer[dsize] = 0x80;
        mfa_store_be64(lane->outer + bsize - 8, (uint64_t)(bsize + dsize) * 8);
    }
}

/* Wipes the scan's copies of secret-derived data. */
static inline void mfa_hmac_scan_wipe(mfa_hmac_scan *scan) {
    OPENSSL_cleanse(scan->lane, sizeof scan->lane);
}

/* Inner compression of one lane: HMAC's H((K ^ ipad) || counter), state left in the lane's context.
 * Each 16-byte chunk that the compression function loads is written by one 16-byte store (data and
 * padding together), so the load is forwarded from the store instead of waiting for it. */
static inline void mfa_hmac_lane_inner(int alg, mfa_hmac_lane *lane, const void *istate, uint64_t counter) {
    uint64_t head[2] = {__builtin_bswap64(counter), 0x80};
    memcpy(lane->inner, head, 16);
    if (alg == MFA_HASH_SHA1) {
        SHA_CTX *c = &lane->ctx.sha1;
        const uint32_t *is = (const uint32_t *)istate;
        c->h0 = is[0]; c->h1 = is[1]; c->h2 = is[2]; c->h3 = is[3]; c->h4 = is[4];
        SHA1_Transform(c, lane->inner);
    } else if (alg == MFA_HASH_SHA256) {
        memcpy(lane->ctx.sha256.h, istate, 32);
        SHA256_Transform(&lane->ctx.sha256, lane->inner);
    } else {
        memcpy(lane->ctx.sha512.h, istate, 64);
        SHA512_Transform(&lane->ctx.sha512, lane->inner);
    }
}

/* Outer compression of one lane; writes the MAC's first five big-endian 32-bit words (bytes 0-19,
 * all that dynamic truncation can read) to words[0..4] and its last byte to words[5]. */
static inline void mfa_hmac_lane_outer(int alg, mfa_hmac_lane *lane, const void *ostate, uint32_t words[6]) {
    if (alg == MFA_HASH_SHA1) {
        SHA_CTX *c = &lane->ctx.sha1;
        const uint32_t *os = (const uint32_t *)ostate;
        uint32_t h[8] = {__builtin_bswap32(c->h0), __builtin_bswap32(c->h1), __builtin_bswap32(c->h2),
                         __builtin_bswap32(c->h3), __builtin_bswap32(c->h4), 0x80, 0, 0};
        memcpy(lane->outer, h, 32);
        c->h0 = os[0]; c->h1 = os[1]; c->h2 = os[2]; c->h3 = os[3]; c->h4 = os[4];
        SHA1_Transform(c, lane->outer);
        words[0] = c->h0; words[1] = c->h1; words[2] = c->h2; words[3] = c->h3; words[4] = c->h4;
        words[5] = c->h4 & 0xFF;
    } else if (alg == MFA_HASH_SHA256) {
        SHA256_CTX *c = &lane->ctx.sha256;
        uint32_t h[12] = {0};
        for (int i = 0; i < 8; i++) h[i] = __builtin_bswap32(c->h[i]);
        h[8] = 0x80;
        memcpy(lane->outer, h, 48);
        memcpy(c->h, ostate, 32);
        SHA256_Transform(c, lane->outer);
        for (int i = 0; i < 5; i++) words[i] = c->h[i];
        words[5] = c->h[7] & 0xFF;
    } else {
        SHA512_CTX *c = &lane->ctx.sha512;
        uint64_t h[10] = {0};
        for (int i = 0; i < 8; i++) h[i] = __builtin_bswap64(c->h[i]);
        h[8] = 0x80;
        memcpy(lane->outer, h, 80);
        memcpy(c->h, ostate, 64);
        SHA512_Transform(c, lane->outer);
        words[0] = (uint32_t)(c->h[0] >> 32); words[1] = (uint32_t)c->h[0];
        words[2] = (uint32_t)(c->h[1] >> 32); words[3] = (uint32_t)c->h[1];
        words[4] = (uint32_t)(c->h[2] >> 32);
        words[5] = (uint32_t)(c->h[7] & 0xFF);
    }
}

/* HMAC of one 8-byte big-endian `counter`: exactly two compressions. words: see mfa_hmac_lane_outer. */
static inline void mfa_hmac_scan_words(mfa_hmac_scan *scan, uint64_t counter, uint32_t words[6]) {
    mfa_hmac_lane_inner(scan->alg, &scan->lane[0], scan->istate, counter);
    mfa_hmac_lane_outer(scan->alg, &scan->lane[0], scan->ostate, words);
}

/* HMACs of two counters, compressions interleaved; words[0..5] for c0, words[6..11] for c1. */
static inline void mfa_hmac_scan_words2(mfa_hmac_scan *scan, uint64_t c0, uint64_t c1, uint32_t words[12]) {
    mfa_hmac_lane_inner(scan->alg, &scan->lane[0], scan->istate, c0);
    mfa_hmac_lane_inner(scan->alg, &scan->lane[1], scan->istate, c1);
    mfa_hmac_lane_outer(scan->alg, &scan->lane[0], scan->ostate, words);
    mfa_hmac_lane_outer(scan->alg, &scan->lane[1], scan->ostate, words + 6);
}

/* The whole MAC (20, 32 or 64 bytes) of `counter`, for tests and diagnostics. */
static inline void mfa_hmac_counter(int alg, const void *istate, const void *ostate, uint64_t counter, uint8_t *mac) {
    mfa_hmac_scan scan;
    uint32_t words[6];
    mfa_hmac_scan_init(&scan, alg, istate, ostate);
    mfa_hmac_scan_words(&scan, counter, words);
    if (alg == MFA_HASH_SHA1) {
        const SHA_CTX *c = &scan.lane[0].ctx.sha1;
        uint32_t h[5] = {c->h0, c->h1, c->h2, c->h3, c->h4};
        mfa_hash_state_bytes(alg, h, mac);
    } else if (alg == MFA_HASH_SHA256) {
        mfa_hash_state_bytes(alg, scan.lane[0].ctx.sha256.h, mac);
    } else {
        mfa_hash_state_bytes(alg, scan.lane[0].ctx.sha512.h, mac);
    }
    mfa_hmac_scan_wipe(&scan);
}

/*
 * AES-256-GCM through EVP: seal writes ciphertext (same length as plaintext) and a 16-byte tag;
 * open verifies the tag (EVP_DecryptFinal_ex) and returns 0 on any mismatch. 12-byte nonces.
 */
static inline int mfa_aes256gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                                     const uint8_t *plaintext, size_t len, uint8_t *ciphertext, uint8_t tag[16]) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int out = 0, ok = ctx != NULL;
    ok = ok && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1;
    ok = ok && EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1;
    ok = ok && (aad_len == 0 || EVP_EncryptUpdate(ctx, NULL, &out, aad, (int)aad_len) == 1);
    ok = ok && (len == 0 || EVP_EncryptUpdate(ctx, ciphertext, &out, plaintext, (int)len) == 1);
    ok = ok && EVP_EncryptFinal_ex(ctx, ciphertext + out, &out) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

static inline int mfa_aes256gcm_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                                     const uint8_t *ciphertext, size_t len, const uint8_t tag[16], uint8_t *plaintext) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int out = 0, ok = ctx != NULL;
    ok = ok && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1;
    ok = ok && EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) == 1;
    ok = ok && (aad_len == 0 || EVP_DecryptUpdate(ctx, NULL, &out, aad, (int)aad_len) == 1);
    ok = ok && (len == 0 || EVP_DecryptUpdate(ctx, plaintext, &out, ciphertext, (int)len) == 1);
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1;
    ok = ok && EVP_DecryptFinal_ex(ctx, plaintext + out, &out) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok && len > 0) OPENSSL_cleanse(plaintext, len);
    return ok;
}

/* Reference one-shot HMAC through OpenSSL's own HMAC() (EVP), for tests and cross-checks. */
static inline int mfa_reference_hmac(int alg, const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                                     uint8_t *out, unsigned int *out_len) {
    const EVP_MD *md = alg == MFA_HASH_SHA1 ? EVP_sha1() : (alg == MFA_HASH_SHA256 ? EVP_sha256() : EVP_sha512());
    return HMAC(md, key, (int)key_len, msg, msg_len, out, out_len) != NULL;
}

/*
 * Seed-file transport crypto (PSKC, RFC 6030): AES-CBC with PKCS#7 padding (128/192/256-bit keys,
 * the IV in front of the ciphertext as XML Encryption does), AES key unwrap (RFC 3394), PBKDF2 with
 * an HMAC PRF, and HMAC with SHA-1/256/512 (mfa_reference_hmac). All through EVP.
 * Returns 1 on success, 0 on any failure (bad key length, bad padding, integrity check of the unwrap).
 */
static inline const EVP_CIPHER *mfa_aes_cbc_cipher(size_t key_len) {
    return key_len == 16 ? EVP_aes_128_cbc() : key_len == 24 ? EVP_aes_192_cbc() : key_len == 32 ? EVP_aes_256_cbc() : NULL;
}

/* Decrypts `len` bytes (IV || ciphertext) into `out` (at least len bytes); *out_len is the plaintext length. */
static inline int mfa_aes_cbc_decrypt(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len) {
    const EVP_CIPHER *cipher = mfa_aes_cbc_cipher(key_len);
    if (cipher == NULL || len < 32 || len % 16 != 0) return 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, tail = 0, ok = ctx != NULL;
    ok = ok && EVP_DecryptInit_ex(ctx, cipher, NULL, key, in) == 1;
    ok = ok && EVP_DecryptUpdate(ctx, out, &n, in + 16, (int)(len - 16)) == 1;
    ok = ok && EVP_DecryptFinal_ex(ctx, out + n, &tail) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) { OPENSSL_cleanse(out, len); return 0; }
    *out_len = (size_t)(n + tail);
    return 1;
}

/* Encrypts `len` bytes with PKCS#7 padding under `iv` (16 bytes); writes IV || ciphertext (len + 32 bytes room). */
static inline int mfa_aes_cbc_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[16], const uint8_t *in, size_t len,
                                      uint8_t *out, size_t *out_len) {
    const EVP_CIPHER *cipher = mfa_aes_cbc_cipher(key_len);
    if (cipher == NULL) return 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, tail = 0, ok = ctx != NULL;
    memcpy(out, iv, 16);
    ok = ok && EVP_EncryptInit_ex(ctx, cipher, NULL, key, iv) == 1;
    ok = ok && EVP_EncryptUpdate(ctx, out + 16, &n, in, (int)len) == 1;
    ok = ok && EVP_EncryptFinal_ex(ctx, out + 16 + n, &tail) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return 0;
    *out_len = (size_t)(16 + n + tail);
    return 1;
}

/* AES key unwrap: RFC 3394 (default IV), or with `pad` RFC 5649 (alternative IV, padded plaintext).
 * `len` wrapped bytes into at most len - 8 plaintext bytes. */
static inline int mfa_aes_key_unwrap(const uint8_t *key, size_t key_len, int pad, const uint8_t *in, size_t len, uint8_t *out,
                                     size_t *out_len) {
    const EVP_CIPHER *cipher = pad ? (key_len == 16 ? EVP_aes_128_wrap_pad() : key_len == 24 ? EVP_aes_192_wrap_pad() : key_len == 32 ? EVP_aes_256_wrap_pad() : NULL)
                                   : (key_len == 16 ? EVP_aes_128_wrap() : key_len == 24 ? EVP_aes_192_wrap() : key_len == 32 ? EVP_aes_256_wrap() : NULL);
    if (cipher == NULL || len < 16 || len % 8 != 0) return 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, tail = 0, ok = ctx != NULL;
    if (ok) EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    ok = ok && EVP_DecryptInit_ex(ctx, cipher, NULL, key, NULL) == 1;
    ok = ok && EVP_DecryptUpdate(ctx, out, &n, in, (int)len) == 1 && n > 0;
    ok = ok && EVP_DecryptFinal_ex(ctx, out + n, &tail) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) { OPENSSL_cleanse(out, len); return 0; }
    *out_len = (size_t)(n + tail);
    return 1;
}

/* AES key wrap (RFC 3394, default IV): `len` (multiple of 8, >= 16) bytes into len + 8 bytes. */
static inline int mfa_aes_key_wrap(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len) {
    const EVP_CIPHER *cipher = key_len == 16 ? EVP_aes_128_wrap() : key_len == 24 ? EVP_aes_192_wrap() : key_len == 32 ? EVP_aes_256_wrap() : NULL;
    if (cipher == NULL || len < 16 || len % 8 != 0) return 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, tail = 0, ok = ctx != NULL;
    if (ok) EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    ok = ok && EVP_EncryptInit_ex(ctx, cipher, NULL, key, NULL) == 1;
    ok = ok && EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1;
    ok = ok && EVP_EncryptFinal_ex(ctx, out + n, &tail) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return 0;
    *out_len = (size_t)(n + tail);
    return 1;
}

/* PBKDF2 with HMAC-SHA1/256/512 as the PRF. */
static inline int mfa_pbkdf2(int alg, const uint8_t *password, size_t password_len, const uint8_t *salt, size_t salt_len,
                             unsigned iterations, uint8_t *out, size_t out_len) {
    const EVP_MD *md = alg == MFA_HASH_SHA1 ? EVP_sha1() : (alg == MFA_HASH_SHA256 ? EVP_sha256() : EVP_sha512());
    return PKCS5_PBKDF2_HMAC((const char *)password, (int)password_len, salt, (int)salt_len, (int)iterations, md, (int)out_len, out);
}

/* SHA-256 over a stream of chunks (file fingerprints). */
typedef struct { SHA256_CTX ctx; } mfa_sha256_stream;
static inline void mfa_sha256_stream_init(mfa_sha256_stream *s) { SHA256_Init(&s->ctx); }
static inline void mfa_sha256_stream_update(mfa_sha256_stream *s, const uint8_t *data, size_t len) { SHA256_Update(&s->ctx, data, len); }
static inline void mfa_sha256_stream_final(mfa_sha256_stream *s, uint8_t out[32]) { SHA256_Final(out, &s->ctx); }

#endif
