/*
 * The code behind include/mfa_openssl.h: the HMAC key schedule and scans on OpenSSL's compression
 * functions, AES-GCM for the vault, and the seed-file transport crypto, all on libcrypto.
 */
#include "mfa_openssl.h"

static size_t mfa_hash_block_bytes(int alg) { return alg == MFA_HASH_SHA512 ? 128 : 64; }

static size_t mfa_hash_digest_bytes(int alg) {
    return alg == MFA_HASH_SHA1 ? 20 : (alg == MFA_HASH_SHA256 ? 32 : 64);
}

static void mfa_store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void mfa_store_be64(uint8_t *p, uint64_t v) {
    mfa_store_be32(p, (uint32_t)(v >> 32)); mfa_store_be32(p + 4, (uint32_t)v);
}

/* One compression of `block` into the state `h` (layout: SHA-1 5 x u32, SHA-256 8 x u32, SHA-512 8 x u64). */
static void mfa_sha1_compress(uint32_t *h, const uint8_t *block) {
    SHA_CTX c;
    c.h0 = h[0]; c.h1 = h[1]; c.h2 = h[2]; c.h3 = h[3]; c.h4 = h[4];
    SHA1_Transform(&c, block);
    h[0] = c.h0; h[1] = c.h1; h[2] = c.h2; h[3] = c.h3; h[4] = c.h4;
}

static void mfa_sha256_compress(uint32_t *h, const uint8_t *block) {
    SHA256_CTX c;
    memcpy(c.h, h, 32);
    SHA256_Transform(&c, block);
    memcpy(h, c.h, 32);
}

static void mfa_sha512_compress(uint64_t *h, const uint8_t *block) {
    SHA512_CTX c;
    memcpy(c.h, h, 64);
    SHA512_Transform(&c, block);
    memcpy(h, c.h, 64);
}

/* Initial (IV) state of each hash, taken from OpenSSL's *_Init. */
static void mfa_hash_initial_state(int alg, void *state) {
    if (alg == MFA_HASH_SHA1) {
        SHA_CTX c; SHA1_Init(&c);
        uint32_t *h = (uint32_t *)state; h[0] = c.h0; h[1] = c.h1; h[2] = c.h2; h[3] = c.h3; h[4] = c.h4;
    } else if (alg == MFA_HASH_SHA256) {
        SHA256_CTX c; SHA256_Init(&c); memcpy(state, c.h, 32);
    } else {
        SHA512_CTX c; SHA512_Init(&c); memcpy(state, c.h, 64);
    }
}

static void mfa_hash_compress(int alg, void *state, const uint8_t *block) {
    if (alg == MFA_HASH_SHA1) mfa_sha1_compress((uint32_t *)state, block);
    else if (alg == MFA_HASH_SHA256) mfa_sha256_compress((uint32_t *)state, block);
    else mfa_sha512_compress((uint64_t *)state, block);
}

/* Serialises a state big-endian into a digest. */
static void mfa_hash_state_bytes(int alg, const void *state, uint8_t *out) {
    if (alg == MFA_HASH_SHA512) {
        const uint64_t *h = (const uint64_t *)state;
        for (int i = 0; i < 8; i++) mfa_store_be64(out + 8 * i, h[i]);
    } else {
        const uint32_t *h = (const uint32_t *)state;
        int words = alg == MFA_HASH_SHA1 ? 5 : 8;
        for (int i = 0; i < words; i++) mfa_store_be32(out + 4 * i, h[i]);
    }
}

int mfa_hmac_key_schedule(int alg, const uint8_t *key, size_t key_len, void *istate, void *ostate) {
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

void mfa_hmac_scan_init(mfa_hmac_scan *scan, int alg, const void *istate, const void *ostate) {
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

void mfa_hmac_scan_wipe(mfa_hmac_scan *scan) {
    OPENSSL_cleanse(scan->lane, sizeof scan->lane);
}

/* Inner compression of one lane: HMAC's H((K ^ ipad) || counter), state left in the lane's context.
 * Each 16-byte chunk that the compression function loads is written by one 16-byte store (data and
 * padding together), so the load is forwarded from the store instead of waiting for it. */
static void mfa_hmac_lane_inner(int alg, mfa_hmac_lane *lane, const void *istate, uint64_t counter) {
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
static void mfa_hmac_lane_outer(int alg, mfa_hmac_lane *lane, const void *ostate, uint32_t words[6]) {
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

void mfa_hmac_scan_words(mfa_hmac_scan *scan, uint64_t counter, uint32_t words[6]) {
    mfa_hmac_lane_inner(scan->alg, &scan->lane[0], scan->istate, counter);
    mfa_hmac_lane_outer(scan->alg, &scan->lane[0], scan->ostate, words);
}

void mfa_hmac_scan_words2(mfa_hmac_scan *scan, uint64_t c0, uint64_t c1, uint32_t words[12]) {
    mfa_hmac_lane_inner(scan->alg, &scan->lane[0], scan->istate, c0);
    mfa_hmac_lane_inner(scan->alg, &scan->lane[1], scan->istate, c1);
    mfa_hmac_lane_outer(scan->alg, &scan->lane[0], scan->ostate, words);
    mfa_hmac_lane_outer(scan->alg, &scan->lane[1], scan->ostate, words + 6);
}

void mfa_hmac_counter(int alg, const void *istate, const void *ostate, uint64_t counter, uint8_t *mac) {
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

int mfa_aes256gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
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

int mfa_aes256gcm_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
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

int mfa_reference_hmac(int alg, const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                       uint8_t *out, unsigned int *out_len) {
    const EVP_MD *md = alg == MFA_HASH_SHA1 ? EVP_sha1() : (alg == MFA_HASH_SHA256 ? EVP_sha256() : EVP_sha512());
    return HMAC(md, key, (int)key_len, msg, msg_len, out, out_len) != NULL;
}

static const EVP_CIPHER *mfa_aes_cbc_cipher(size_t key_len) {
    return key_len == 16 ? EVP_aes_128_cbc() : key_len == 24 ? EVP_aes_192_cbc() : key_len == 32 ? EVP_aes_256_cbc() : NULL;
}

int mfa_aes_cbc_decrypt(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len) {
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

int mfa_aes_cbc_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[16], const uint8_t *in, size_t len,
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

int mfa_aes_key_unwrap(const uint8_t *key, size_t key_len, int pad, const uint8_t *in, size_t len, uint8_t *out,
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

int mfa_aes_key_wrap(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len) {
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

int mfa_pbkdf2(int alg, const uint8_t *password, size_t password_len, const uint8_t *salt, size_t salt_len,
               unsigned iterations, uint8_t *out, size_t out_len) {
    const EVP_MD *md = alg == MFA_HASH_SHA1 ? EVP_sha1() : (alg == MFA_HASH_SHA256 ? EVP_sha256() : EVP_sha512());
    return PKCS5_PBKDF2_HMAC((const char *)password, (int)password_len, salt, (int)salt_len, (int)iterations, md, (int)out_len, out);
}

void mfa_sha256_stream_init(mfa_sha256_stream *s) { SHA256_Init(&s->ctx); }

void mfa_sha256_stream_update(mfa_sha256_stream *s, const uint8_t *data, size_t len) { SHA256_Update(&s->ctx, data, len); }

void mfa_sha256_stream_final(mfa_sha256_stream *s, uint8_t out[32]) { SHA256_Final(out, &s->ctx); }
