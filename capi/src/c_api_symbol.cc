// Symbols, string lists and shape lists.
#include "capi/src/handles.h"
#include "core/graph/symbol.h"

using namespace mxn;
using mxn::capi::check_out;

struct mxn_strings {
  uint32_t magic = kStringsMagic;
  std::vector<std::string> items;
};

struct mxn_symbol {
  uint32_t magic = kSymbolMagic;
  Symbol sym;
};

struct mxn_shapes {
  uint32_t magic = kShapesMagic;
  std::vector<Shape> items;
};

namespace mxn::capi {
mxn_strings* new_strings(std::vector<std::string> items) {
  auto* h = new mxn_strings();
  h->items = std::move(items);
  return h;
}

const Symbol& symbol_of(const mxn_symbol* h, const char* what) {
  MXN_CHECK(h != nullptr, ErrorCode::kInvalidArg, what, " is a NULL symbol handle");
  MXN_CHECK(h->magic == kSymbolMagic, ErrorCode::kInvalidArg, what,
            " is not a symbol handle (wrong handle type or already freed)");
  return h->sym;
}
}  // namespace mxn::capi

using mxn::capi::new_strings;
using mxn::capi::symbol_of;

namespace {

mxn_symbol* new_symbol(Symbol s) {
  auto* h = new mxn_symbol();
  h->sym = std::move(s);
  return h;
}


const char* checked_str(const char* s, const char* what) {
  MXN_CHECK(s != nullptr, ErrorCode::kInvalidArg, what, " is NULL");
  return s;
}

}  // namespace

extern "C" {

int mxn_strings_size(const mxn_strings* list, int32_t* out) {
  MXN_API_BEGIN();
  MXN_CHECK(list != nullptr && list->magic == kStringsMagic, ErrorCode::kInvalidArg,
            "list is not a string list handle");
  check_out(out, "out");
  *out = static_cast<int32_t>(list->items.size());
  MXN_API_END();
}

int mxn_strings_get(const mxn_strings* list, int32_t index, const char** out) {
  MXN_API_BEGIN();
  MXN_CHECK(list != nullptr && list->magic == kStringsMagic, ErrorCode::kInvalidArg,
            "list is not a string list handle");
  check_out(out, "out");
  MXN_CHECK(index >= 0 && static_cast<size_t>(index) < list->items.size(),
            ErrorCode::kInvalidArg, "index ", index, " is out of range [0, ", list->items.size(),
            ")");
  *out = list->items[static_cast<size_t>(index)].c_str();
  MXN_API_END();
}

void mxn_strings_free(mxn_strings* list) {
  if (list == nullptr || list->magic != kStringsMagic) return;
  list->magic = 0;
  delete list;
}

int mxn_symbol_variable(const char* name, mxn_symbol** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  Symbol s = Symbol::variable(checked_str(name, "name"));
  *out = new_symbol(std::move(s));
  MXN_API_END();
}

int mxn_symbol_compose(const mxn_op* op, int32_t num_params, const char* const* keys,
                       const mxn_value* values, const char* name, int32_t num_args,
                       mxn_symbol* const* args, const char* const* arg_names, int32_t num_attrs,
                       const char* const* attr_keys, const char* const* attr_values,
                       mxn_symbol** out) {
  MXN_API_BEGIN();
  const OpDef& def = capi::op_of(op, "op");
  check_out(out, "out");
  OpParams params = capi::params_from_values(def, num_params, keys, values);
  MXN_CHECK(num_args >= 0 && (num_args == 0 || args != nullptr), ErrorCode::kInvalidArg,
            "args is NULL or num_args negative");
  std::vector<Symbol> syms;
  std::vector<std::string> names;
  for (int32_t i = 0; i < num_args; ++i) {
    syms.push_back(symbol_of(args[i], "argument"));
    if (arg_names != nullptr) names.push_back(arg_names[i] ? arg_names[i] : "");
  }
  MXN_CHECK(num_attrs >= 0 && (num_attrs == 0 || (attr_keys && attr_values)),
            ErrorCode::kInvalidArg, "attr_keys or attr_values is NULL");
  std::map<std::string, std::string> attrs;
  for (int32_t i = 0; i < num_attrs; ++i) {
    attrs[checked_str(attr_keys[i], "attribute key")] = checked_str(attr_values[i], "attribute value");
  }
  Symbol s = Symbol::compose(def, std::move(params), name ? name : "", syms, names, attrs);
  *out = new_symbol(std::move(s));
  MXN_API_END();
}

int mxn_symbol_group(int32_t num, mxn_symbol* const* symbols, mxn_symbol** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  MXN_CHECK(num > 0 && symbols != nullptr, ErrorCode::kInvalidArg,
            "a group needs at least one symbol");
  std::vector<Symbol> parts;
  for (int32_t i = 0; i < num; ++i) parts.push_back(symbol_of(symbols[i], "symbol"));
  *out = new_symbol(Symbol::group(parts));
  MXN_API_END();
}

void mxn_symbol_free(mxn_symbol* symbol) {
  if (symbol == nullptr || symbol->magic != kSymbolMagic) return;
  symbol->magic = 0;
  delete symbol;
}

int mxn_symbol_num_outputs(const mxn_symbol* symbol, int32_t* out) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(out, "out");
  *out = static_cast<int32_t>(s.outputs.size());
  MXN_API_END();
}

int mxn_symbol_output(const mxn_symbol* symbol, int32_t index, mxn_symbol** out) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(out, "out");
  MXN_CHECK(index >= 0, ErrorCode::kInvalidArg, "output index ", index, " is negative");
  *out = new_symbol(s.output(static_cast<size_t>(index)));
  MXN_API_END();
}

int mxn_symbol_internals(const mxn_symbol* symbol, mxn_symbol** out) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(out, "out");
  *out = new_symbol(s.internals());
  MXN_API_END();
}

int mxn_symbol_children(const mxn_symbol* symbol, mxn_symbol** out) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(out, "out");
  Symbol c = s.children();
  *out = c.outputs.empty() ? nullptr : new_symbol(std::move(c));
  MXN_API_END();
}

int mxn_symbol_list(const mxn_symbol* symbol, int32_t kind, mxn_strings** out) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(out, "out");
  std::vector<std::string> names;
  switch (kind) {
    case MXN_LIST_ARGUMENTS: names = s.list_arguments(); break;
    case MXN_LIST_OUTPUTS: names = s.list_outputs(); break;
    case MXN_LIST_AUX_STATES: names = s.list_auxiliary_states(); break;
    case MXN_LIST_INPUTS: names = s.list_inputs(); break;
    default:
      throw_error(ErrorCode::kInvalidArg, cat("unknown list kind ", kind, " (0..3)"));
  }
  *out = new_strings(std::move(names));
  MXN_API_END();
}

int mxn_symbol_name(const mxn_symbol* symbol, const char** out) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(out, "out");
  *out = s.outputs.size() == 1 ? s.outputs[0].node->name.c_str() : "";
  MXN_API_END();
}

int mxn_symbol_get_attr(const mxn_symbol* symbol, const char* key, int32_t* found,
                        mxn_strings** out) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  checked_str(key, "key");
  check_out(found, "found");
  check_out(out, "out");
  MXN_CHECK(s.outputs.size() == 1, ErrorCode::kInvalidArg,
            "attributes of a group: index one output first");
  const auto& attrs = s.outputs[0].node->attrs;
  auto it = attrs.find(key);
  if (it == attrs.end()) {
    *found = 0;
    *out = nullptr;
  } else {
    mxn_strings* v = new_strings({it->second});
    *found = 1;
    *out = v;
  }
  MXN_API_END();
}

int mxn_symbol_set_attr(mxn_symbol* symbol, const char* key, const char* value) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  checked_str(key, "key");
  checked_str(value, "value");
  for (const NodeEntry& e : s.outputs) e.node->attrs[key] = value;
  MXN_API_END();
}

int mxn_symbol_list_attr(const mxn_symbol* symbol, int32_t recursive, mxn_strings** out) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(out, "out");
  std::vector<std::string> flat;
  if (recursive) {
    for (const NodePtr& n : s.topo()) {
      for (const auto& [k, v] : n->attrs) {
        flat.push_back(n->name + "$" + k);
        flat.push_back(v);
      }
    }
  } else if (s.outputs.size() == 1) {
    for (const auto& [k, v] : s.outputs[0].node->attrs) {
      flat.push_back(k);
      flat.push_back(v);
    }
  }
  *out = new_strings(std::move(flat));
  MXN_API_END();
}

int mxn_symbol_to_json(const mxn_symbol* symbol, mxn_strings** out) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(out, "out");
  *out = new_strings({s.to_json()});
  MXN_API_END();
}

int mxn_symbol_from_json(const char* json, mxn_symbol** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  Symbol s = Symbol::from_json(checked_str(json, "json"));
  *out = new_symbol(std::move(s));
  MXN_API_END();
}

int mxn_symbol_infer_shape(const mxn_symbol* symbol, int32_t num_known, const char* const* names,
                           const int32_t* ndims, const int64_t* dims, int32_t partial,
                           mxn_shapes** args, mxn_shapes** outputs, mxn_shapes** aux) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(args, "args");
  check_out(outputs, "outputs");
  check_out(aux, "aux");
  MXN_CHECK(num_known >= 0 && (num_known == 0 || (names && ndims)), ErrorCode::kInvalidArg,
            "names or ndims is NULL");
  std::map<std::string, Shape> known;
  size_t offset = 0;
  for (int32_t i = 0; i < num_known; ++i) {
    MXN_CHECK(ndims[i] == 0 || dims != nullptr, ErrorCode::kInvalidArg, "dims is NULL");
    known[checked_str(names[i], "name")] =
        Shape::from_dims(dims ? dims + offset : nullptr, ndims[i], names[i]);
    offset += static_cast<size_t>(ndims[i]);
  }
  auto a = std::make_unique<mxn_shapes>();
  auto o = std::make_unique<mxn_shapes>();
  auto x = std::make_unique<mxn_shapes>();
  s.infer_shape(known, &a->items, &o->items, &x->items, partial != 0);
  *args = a.release();
  *outputs = o.release();
  *aux = x.release();
  MXN_API_END();
}

int mxn_shapes_size(const mxn_shapes* list, int32_t* out) {
  MXN_API_BEGIN();
  MXN_CHECK(list != nullptr && list->magic == kShapesMagic, ErrorCode::kInvalidArg,
            "list is not a shape list handle");
  check_out(out, "out");
  *out = static_cast<int32_t>(list->items.size());
  MXN_API_END();
}

int mxn_shapes_get(const mxn_shapes* list, int32_t index, int32_t* ndim, const int64_t** dims) {
  MXN_API_BEGIN();
  MXN_CHECK(list != nullptr && list->magic == kShapesMagic, ErrorCode::kInvalidArg,
            "list is not a shape list handle");
  check_out(ndim, "ndim");
  check_out(dims, "dims");
  MXN_CHECK(index >= 0 && static_cast<size_t>(index) < list->items.size(),
            ErrorCode::kInvalidArg, "index ", index, " is out of range [0, ", list->items.size(),
            ")");
  const Shape& sh = list->items[static_cast<size_t>(index)];
  *ndim = sh.ndim();
  *dims = sh.data();
  MXN_API_END();
}

void mxn_shapes_free(mxn_shapes* list) {
  if (list == nullptr || list->magic != kShapesMagic) return;
  list->magic = 0;
  delete list;
}

int mxn_symbol_infer_type(const mxn_symbol* symbol, int32_t num_known, const char* const* names,
                          const int32_t* dtypes, int32_t capacity, int32_t* arg_types,
                          int32_t* num_args, int32_t* out_types, int32_t* num_outputs,
                          int32_t* aux_types, int32_t* num_aux) {
  MXN_API_BEGIN();
  const Symbol& s = symbol_of(symbol, "symbol");
  check_out(num_args, "num_args");
  check_out(num_outputs, "num_outputs");
  check_out(num_aux, "num_aux");
  MXN_CHECK(num_known >= 0 && (num_known == 0 || (names && dtypes)), ErrorCode::kInvalidArg,
            "names or dtypes is NULL");
  std::map<std::string, DType> known;
  for (int32_t i = 0; i < num_known; ++i) known[checked_str(names[i], "name")] = dtype_checked(dtypes[i]);
  std::vector<DType> a, o, x;
  s.infer_type(known, &a, &o, &x);
  const size_t need = std::max({a.size(), o.size(), x.size()});
  MXN_CHECK(capacity >= 0 && need <= static_cast<size_t>(capacity), ErrorCode::kInvalidArg,
            "capacity ", capacity, " is smaller than the ", need, " dtypes to return");
  MXN_CHECK((a.empty() || arg_types) && (o.empty() || out_types) && (x.empty() || aux_types),
            ErrorCode::kInvalidArg, "a dtype output buffer is NULL");
  for (size_t i = 0; i < a.size(); ++i) arg_types[i] = static_cast<int32_t>(a[i]);
  for (size_t i = 0; i < o.size(); ++i) out_types[i] = static_cast<int32_t>(o[i]);
  for (size_t i = 0; i < x.size(); ++i) aux_types[i] = static_cast<int32_t>(x[i]);
  *num_args = static_cast<int32_t>(a.size());
  *num_outputs = static_cast<int32_t>(o.size());
  *num_aux = static_cast<int32_t>(x.size());
  MXN_API_END();
}

}  // extern "C"
