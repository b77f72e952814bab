// A small JSON reader (symbol files, schema round trips). Errors are kFormat with the byte
// offset; nesting and sizes are bounded so hostile input cannot exhaust the stack or memory.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mxn {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  static JsonValue parse(const std::string& text);  // throws kFormat

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_number() const { return type_ == Type::kNumber; }

  // Typed access; each throws kFormat naming `what` when the type differs.
  const std::string& as_string(const char* what) const;
  double as_number(const char* what) const;
  int64_t as_int(const char* what) const;  // a number that is an integer
  const std::vector<JsonValue>& as_array(const char* what) const;
  const std::map<std::string, JsonValue>& as_object(const char* what) const;
  // Member of an object, or nullptr.
  const JsonValue* get(const std::string& key) const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> array_;
  std::map<std::string, JsonValue> object_;
};

}  // namespace mxn
