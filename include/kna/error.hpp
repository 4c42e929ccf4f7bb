#pragma once
// A small value-or-error type for results from the outside world (C++20 has no std::expected).

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace kna {

struct Error {
  std::string message;  // says what went wrong and, where known, what to do about it
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// The result of an operation that yields nothing but can fail: `return kOk;` or an Error.
using Status = Result<std::monostate>;
inline constexpr std::monostate kOk{};

}  // namespace kna
