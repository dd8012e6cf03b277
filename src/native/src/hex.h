// Bytes as lowercase hex and back: how binary keys and handles travel in an agent's text metadata.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dynamo::xfer {

inline std::string hex(const void* data, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(2 * n, '0');
  auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

// Odd lengths and characters other than [0-9a-f] are the caller's to refuse (from metadata we wrote).
inline std::string unhex(const std::string& s) {
  std::string out(s.size() / 2, '\0');
  auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i < out.size(); i++) out[i] = static_cast<char>(v(s[2 * i]) << 4 | v(s[2 * i + 1]));
  return out;
}

}  // namespace dynamo::xfer
