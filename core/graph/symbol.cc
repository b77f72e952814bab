#include "core/graph/symbol.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include "core/base/json.h"
#include "core/base/json_value.h"
#include "core/graph/gradient_pass.h"

namespace mxn {

namespace {
thread_local std::map<std::string, int> t_name_counters;

// The variable nodes used as auxiliary-state inputs somewhere in the graph.
std::unordered_set<const Node*> aux_variables(const std::vector<NodePtr>& nodes) {
  std::unordered_set<const Node*> aux;
  for (const NodePtr& n : nodes) {
    if (n->is_variable()) continue;
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      if (n->op->is_aux_input(static_cast<int>(i)) && n->inputs[i].node->is_variable()) {
        aux.insert(n->inputs[i].node.get());
      }
    }
  }
  return aux;
}

std::string output_name(const NodeEntry& e) {
  const Node& n = *e.node;
  if (n.is_variable()) return n.name;
  const int count = n.num_outputs();
  std::string out;
  if (n.op->num_outputs_fn) {
    out = "output" + std::to_string(e.index);
  } else {
    out = n.op->outputs.at(e.index);
  }
  (void)count;
  return n.name + "_" + out;
}

[[noreturn]] void node_error(const Node& n, Error& e) {
  if (e.message().rfind("node '", 0) != 0) {
    e.prefix(cat("node '", n.name, "' (", n.op ? n.op->name : "variable", ")"));
  }
  if (n.op && e.op_name().empty()) e.with_op(n.op->name);
  throw e;
}

// A variable's __shape__ attribute ("(2, 3)"); 0 marks an unknown dimension (MXNet's
// convention), which leaves the whole shape to inference.
Shape shape_attr(const std::string& text) {
  Shape s;
  int64_t v = 0;
  bool in_number = false, any = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      in_number = any = true;
    } else if (in_number) {
      if (v == 0 || s.ndim() >= kMaxNdim) return Shape::unknown();
      s.push_back(v);
      v = 0;
      in_number = false;
    } else if (c == '-') {
      return Shape::unknown();
    }
  }
  if (in_number) {
    if (v == 0 || s.ndim() >= kMaxNdim) return Shape::unknown();
    s.push_back(v);
  }
  (void)any;
  return s;
}

}  // namespace

std::string auto_name(const std::string& hint) {
  std::string lower = hint;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const int k = t_name_counters[lower]++;
  return lower + std::to_string(k);
}

void reset_auto_names() { t_name_counters.clear(); }

Symbol Symbol::variable(const std::string& name) {
  MXN_CHECK(!name.empty(), ErrorCode::kInvalidArg, "a variable needs a name");
  Symbol s;
  s.outputs.push_back(NodeEntry{Node::variable(name), 0});
  return s;
}

Symbol Symbol::compose(const OpDef& op, OpParams params, std::string name,
                       const std::vector<Symbol>& args, const std::vector<std::string>& arg_names,
                       const std::map<std::string, std::string>& attrs) {
  MXN_CHECK(arg_names.empty() || arg_names.size() == args.size(), ErrorCode::kInvalidArg,
            op.name, ": ", args.size(), " arguments but ", arg_names.size(), " argument names");
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].outputs.size() != 1) {
      throw Error(ErrorCode::kInvalidArg,
                  cat(op.name, ": argument ", i, " has ", args[i].outputs.size(),
                      " outputs; compose with a single output (index the symbol)"))
          .with_arg(static_cast<int>(i))
          .with_op(op.name);
    }
  }
  if (name.empty()) name = auto_name(op.name);
  std::vector<NodeEntry> inputs;
  if (!op.variadic_count.empty()) {
    for (size_t i = 0; i < args.size(); ++i) {
      MXN_CHECK(arg_names.empty() || arg_names[i].empty(), ErrorCode::kInvalidArg, op.name,
                " takes its inputs by position");
      inputs.push_back(args[i].outputs[0]);
    }
    if (params.is_none(op.variadic_count.c_str())) {
      params.set(op.variadic_count.c_str(), ParamValue::of_int(static_cast<int64_t>(args.size())));
    }
    MXN_CHECK(params.get_int(op.variadic_count.c_str()) == static_cast<int64_t>(args.size()),
              ErrorCode::kInvalidArg, op.name, ": ", op.variadic_count, " is ",
              params.get_int(op.variadic_count.c_str()), " but ", args.size(),
              " inputs were given");
  } else {
    const std::vector<std::string> names = op.input_names(params);
    std::vector<NodeEntry> slots(names.size());
    size_t next_positional = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string key = arg_names.empty() ? std::string() : arg_names[i];
      size_t at;
      if (key.empty()) {
        at = next_positional++;
        MXN_CHECK(at < names.size(), ErrorCode::kInvalidArg, op.name, " takes ", names.size(),
                  " inputs, got more");
      } else {
        auto it = std::find(names.begin(), names.end(), key);
        if (it == names.end()) {
          std::string list;
          for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
          throw Error(ErrorCode::kInvalidArg,
                      cat(op.name, " has no input '", key, "' (inputs: ", list, ")"))
              .with_op(op.name);
        }
        at = static_cast<size_t>(it - names.begin());
      }
      MXN_CHECK(!slots[at], ErrorCode::kInvalidArg, op.name, ": input '", names[at],
                "' given twice");
      slots[at] = args[i].outputs[0];
    }
    for (size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i]) slots[i] = NodeEntry{Node::variable(name + "_" + names[i]), 0};
    }
    inputs = std::move(slots);
  }
  NodePtr node = Node::create(op, name, std::move(inputs), std::move(params));
  node->attrs = attrs;
  Symbol s;
  const int visible = op.num_visible_outputs(node->params);
  for (int i = 0; i < visible; ++i) s.outputs.push_back(NodeEntry{node, static_cast<uint32_t>(i)});
  return s;
}

Symbol Symbol::group(const std::vector<Symbol>& parts) {
  Symbol s;
  for (const Symbol& p : parts) s.outputs.insert(s.outputs.end(), p.outputs.begin(), p.outputs.end());
  return s;
}

Symbol Symbol::output(size_t index) const {
  MXN_CHECK(index < outputs.size(), ErrorCode::kInvalidArg, "output index ", index,
            " is out of range for a symbol with ", outputs.size(), " outputs");
  Symbol s;
  s.outputs.push_back(outputs[index]);
  return s;
}

std::vector<NodePtr> Symbol::topo() const { return topo_order(outputs); }

Symbol Symbol::internals() const {
  Symbol s;
  for (const NodePtr& n : topo()) {
    const int k = n->is_variable() ? 1 : n->op->num_visible_outputs(n->params);
    for (int i = 0; i < k; ++i) s.outputs.push_back(NodeEntry{n, static_cast<uint32_t>(i)});
  }
  return s;
}

Symbol Symbol::children() const {
  Symbol s;
  for (const NodeEntry& h : outputs) s.outputs.insert(s.outputs.end(), h.node->inputs.begin(), h.node->inputs.end());
  return s;
}

std::vector<std::string> Symbol::list_arguments() const {
  const auto nodes = topo();
  const auto aux = aux_variables(nodes);
  std::vector<std::string> names;
  for (const NodePtr& n : nodes) {
    if (n->is_variable() && !aux.count(n.get())) names.push_back(n->name);
  }
  return names;
}

std::vector<std::string> Symbol::list_auxiliary_states() const {
  const auto nodes = topo();
  const auto aux = aux_variables(nodes);
  std::vector<std::string> names;
  for (const NodePtr& n : nodes) {
    if (n->is_variable() && aux.count(n.get())) names.push_back(n->name);
  }
  return names;
}

std::vector<std::string> Symbol::list_inputs() const {
  std::vector<std::string> names;
  for (const NodePtr& n : topo()) {
    if (n->is_variable()) names.push_back(n->name);
  }
  return names;
}

std::vector<std::string> Symbol::list_outputs() const {
  std::vector<std::string> names;
  for (const NodeEntry& e : outputs) names.push_back(output_name(e));
  return names;
}

std::string Symbol::name() const {
  return outputs.size() == 1 ? outputs[0].node->name : std::string();
}

// ---- JSON ------------------------------------------------------------------------------------

std::string Symbol::to_json() const {
  const auto nodes = topo();
  std::unordered_map<const Node*, size_t> id;
  for (size_t i = 0; i < nodes.size(); ++i) id[nodes[i].get()] = i;
  std::string out = "{\n  \"nodes\": [";
  std::vector<size_t> arg_nodes;
  std::vector<size_t> row_ptr{0};
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = *nodes[i];
    out += i ? ",\n    {" : "\n    {";
    out += "\n      \"op\": ";
    json_quote(out, n.is_variable() ? "null" : n.op->name);
    out += ",\n      \"name\": ";
    json_quote(out, n.name);
    std::map<std::string, std::string> attrs = n.attrs;
    if (!n.is_variable()) {
      // As MXNet writes them: the parameters that differ from their defaults (and the
      // variadic count, which MXNet always writes).
      const auto& given = n.params.given();
      for (size_t p = 0; p < n.op->params.size(); ++p) {
        const ParamSpec& spec = n.op->params[p];
        const ParamValue& v = n.params.values()[p];
        const bool count = spec.name == n.op->variadic_count;
        if (!given[p] && !count) continue;
        if (v.kind == ParamType::kNone) continue;
        if (!count && !spec.required && v == spec.default_value) continue;
        attrs[spec.name] = v.str();
      }
    }
    if (!attrs.empty()) {
      out += ",\n      \"attrs\": {";
      bool first = true;
      for (const auto& [k, v] : attrs) {
        out += first ? "\n        " : ",\n        ";
        first = false;
        json_quote(out, k);
        out += ": ";
        json_quote(out, v);
      }
      out += "\n      }";
    }
    out += ",\n      \"inputs\": [";
    for (size_t j = 0; j < n.inputs.size(); ++j) {
      if (j) out += ", ";
      out += cat("[", id.at(n.inputs[j].node.get()), ", ", n.inputs[j].index, ", 0]");
    }
    out += "]\n    }";
    if (n.is_variable()) arg_nodes.push_back(i);
    row_ptr.push_back(row_ptr.back() + static_cast<size_t>(n.num_outputs()));
  }
  out += "\n  ],\n  \"arg_nodes\": [";
  for (size_t i = 0; i < arg_nodes.size(); ++i) out += cat(i ? ", " : "", arg_nodes[i]);
  out += "],\n  \"node_row_ptr\": [";
  for (size_t i = 0; i < row_ptr.size(); ++i) out += cat(i ? ", " : "", row_ptr[i]);
  out += "],\n  \"heads\": [";
  for (size_t i = 0; i < outputs.size(); ++i) {
    out += cat(i ? ", " : "", "[", id.at(outputs[i].node.get()), ", ", outputs[i].index, ", 0]");
  }
  // Written as Apache MXNet 1.9.1 writes it, so that MXNet loads our files.
  out += "],\n  \"attrs\": {\"mxnet_version\": [\"int\", 10901]}\n}";
  return out;
}

Symbol Symbol::from_json(const std::string& json) {
  const JsonValue doc = JsonValue::parse(json);
  doc.as_object("symbol JSON");
  const JsonValue* nodes_v = doc.get("nodes");
  const JsonValue* heads_v = doc.get("heads");
  MXN_CHECK(nodes_v && heads_v, ErrorCode::kFormat,
            "symbol JSON needs \"nodes\" and \"heads\"");
  const auto& nodes_json = nodes_v->as_array("\"nodes\"");
  std::vector<NodePtr> nodes;
  nodes.reserve(nodes_json.size());
  for (size_t i = 0; i < nodes_json.size(); ++i) {
    const JsonValue& nj = nodes_json[i];
    nj.as_object("a node");
    const JsonValue* op_v = nj.get("op");
    const JsonValue* name_v = nj.get("name");
    MXN_CHECK(op_v && name_v, ErrorCode::kFormat, "node ", i, " needs \"op\" and \"name\"");
    const std::string& op_name = op_v->as_string("node op");
    const std::string& name = name_v->as_string("node name");
    // Attributes: "attrs" (MXNet >= 1.0), "attr" and "param" (older files).
    std::map<std::string, std::string> raw;
    for (const char* key : {"param", "attr", "attrs"}) {
      if (const JsonValue* a = nj.get(key)) {
        for (const auto& [k, v] : a->as_object("node attributes")) {
          raw[k] = v.as_string("an attribute value");
        }
      }
    }
    std::vector<NodeEntry> inputs;
    if (const JsonValue* in_v = nj.get("inputs")) {
      for (const JsonValue& e : in_v->as_array("node inputs")) {
        const auto& t = e.as_array("an input entry");
        MXN_CHECK(t.size() >= 2, ErrorCode::kFormat, "node '", name,
                  "': an input entry needs [node, index]");
        const int64_t src = t[0].as_int("input node id");
        const int64_t idx = t[1].as_int("input output index");
        MXN_CHECK(src >= 0 && static_cast<size_t>(src) < i, ErrorCode::kFormat, "node '", name,
                  "' reads node ", src, ", which does not come before it");
        MXN_CHECK(idx >= 0 && idx < nodes[static_cast<size_t>(src)]->num_outputs(),
                  ErrorCode::kFormat, "node '", name, "' reads output ", idx, " of node '",
                  nodes[static_cast<size_t>(src)]->name, "', which has ",
                  nodes[static_cast<size_t>(src)]->num_outputs());
        inputs.push_back(NodeEntry{nodes[static_cast<size_t>(src)], static_cast<uint32_t>(idx)});
      }
    }
    if (op_name == "null") {
      MXN_CHECK(inputs.empty(), ErrorCode::kFormat, "variable '", name, "' has inputs");
      NodePtr v = Node::variable(name);
      v->attrs = raw;
      nodes.push_back(v);
      continue;
    }
    const OpDef* op = OpRegistry::get().find(op_name);
    MXN_CHECK(op != nullptr, ErrorCode::kNotImplemented, "node '", name, "' uses operator '",
              op_name, "', which mxnext does not have");
    std::vector<std::string> keys;
    std::vector<ParamValue> values;
    std::map<std::string, std::string> user;
    for (const auto& [k, v] : raw) {
      if (const ParamSpec* spec = op->find_param(k)) {
        keys.push_back(k);
        values.push_back(parse_param_string(*op, *spec, v));
      } else {
        user[k] = v;  // user attributes, and parameters this build does not model
      }
    }
    std::vector<const char*> key_ptrs;
    for (const auto& k : keys) key_ptrs.push_back(k.c_str());
    OpParams params;
    try {
      params = OpParams::parse(*op, static_cast<int>(keys.size()), key_ptrs.data(), values.data());
      if (!op->variadic_count.empty() && params.is_none(op->variadic_count.c_str())) {
        params.set(op->variadic_count.c_str(), ParamValue::of_int(static_cast<int64_t>(inputs.size())));
      }
    } catch (Error& e) {
      Node tmp;
      tmp.name = name;
      tmp.op = op;
      node_error(tmp, e);
    }
    const int want = op->num_inputs(params);
    MXN_CHECK(static_cast<int>(inputs.size()) == want, ErrorCode::kFormat, "node '", name, "' (",
              op_name, ") has ", inputs.size(), " inputs, expected ", want);
    NodePtr n = Node::create(*op, name, std::move(inputs), std::move(params));
    n->attrs = user;
    nodes.push_back(n);
  }
  Symbol s;
  for (const JsonValue& h : heads_v->as_array("\"heads\"")) {
    const auto& t = h.as_array("a head entry");
    MXN_CHECK(t.size() >= 2, ErrorCode::kFormat, "a head entry needs [node, index]");
    const int64_t id = t[0].as_int("head node id");
    const int64_t idx = t[1].as_int("head output index");
    MXN_CHECK(id >= 0 && static_cast<size_t>(id) < nodes.size(), ErrorCode::kFormat,
              "head node ", id, " does not exist");
    MXN_CHECK(idx >= 0 && idx < nodes[static_cast<size_t>(id)]->num_outputs(), ErrorCode::kFormat,
              "head output ", idx, " of node '", nodes[static_cast<size_t>(id)]->name,
              "' does not exist");
    s.outputs.push_back(NodeEntry{nodes[static_cast<size_t>(id)], static_cast<uint32_t>(idx)});
  }
  MXN_CHECK(!s.outputs.empty(), ErrorCode::kFormat, "symbol JSON has no heads");
  return s;
}

// ---- inference ---------------------------------------------------------------------------------

void Symbol::infer_shape(const std::map<std::string, Shape>& known, std::vector<Shape>* args,
                         std::vector<Shape>* outs, std::vector<Shape>* aux, bool partial) const {
  const auto nodes = topo();
  std::unordered_map<const Node*, std::vector<Shape>> shapes;
  for (const NodePtr& n : nodes) {
    if (n->is_variable()) {
      auto it = known.find(n->name);
      Shape s = Shape::unknown();
      if (it != known.end()) {
        s = it->second;
      } else if (auto a = n->attrs.find("__shape__"); a != n->attrs.end()) {
        s = shape_attr(a->second);
      }
      shapes[n.get()] = {s};
    } else {
      shapes[n.get()] = std::vector<Shape>(static_cast<size_t>(n->num_outputs()), Shape::unknown());
    }
  }
  for (const auto& [name, shape] : known) {
    (void)shape;
    bool found = false;
    for (const NodePtr& n : nodes) found = found || (n->is_variable() && n->name == name);
    MXN_CHECK(found, ErrorCode::kInvalidArg, "infer_shape: '", name,
              "' is not an argument or auxiliary state of the symbol");
  }
  // Forward passes until nothing changes: an operator may fill unknown input shapes (a
  // weight from its data) and then its outputs.
  for (size_t pass = 0; pass <= nodes.size(); ++pass) {
    bool changed = false;
    for (const NodePtr& n : nodes) {
      if (n->is_variable()) continue;
      auto& mine = shapes[n.get()];
      bool outputs_known = true;
      for (const Shape& s : mine) outputs_known = outputs_known && s.is_known();
      if (outputs_known) continue;
      std::vector<Shape> in;
      for (const NodeEntry& e : n->inputs) in.push_back(shapes[e.node.get()][e.index]);
      try {
        bool all_known = std::all_of(in.begin(), in.end(), [](const Shape& s) { return s.is_known(); });
        if (!all_known && n->op->infer_input_shapes) {
          std::vector<Shape> filled = in;
          n->op->infer_input_shapes(n->params, &filled);
          for (size_t j = 0; j < in.size(); ++j) {
            if (!in[j].is_known() && filled[j].is_known()) {
              const NodeEntry& e = n->inputs[j];
              shapes[e.node.get()][e.index] = filled[j];
              in[j] = filled[j];
              changed = true;
            }
          }
          all_known = std::all_of(in.begin(), in.end(), [](const Shape& s) { return s.is_known(); });
        }
        if (!all_known) continue;
        std::vector<Shape> out(mine.size());
        n->op->infer_shape(n->params, in, &out);
        mine = out;
        changed = true;
      } catch (Error& e) {
        node_error(*n, e);
      }
    }
    if (!changed) break;
  }
  const auto aux_set = aux_variables(nodes);
  args->clear();
  aux->clear();
  outs->clear();
  std::vector<std::string> unknown;
  for (const NodePtr& n : nodes) {
    if (!n->is_variable()) continue;
    const Shape& s = shapes[n.get()][0];
    if (!s.is_known()) unknown.push_back(n->name);
    (aux_set.count(n.get()) ? aux : args)->push_back(s);
  }
  for (const NodeEntry& e : outputs) {
    const Shape& s = shapes[e.node.get()][e.index];
    if (!s.is_known()) unknown.push_back(output_name(e));
    outs->push_back(s);
  }
  if (!partial && !unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
    throw_error(ErrorCode::kShape,
                cat("infer_shape: cannot infer the shapes of ", list,
                    " from the given ones; give more input shapes or use infer_shape_partial"));
  }
}

void Symbol::infer_type(const std::map<std::string, DType>& known, std::vector<DType>* args,
                        std::vector<DType>* outs, std::vector<DType>* aux) const {
  const auto nodes = topo();
  DType fallback = DType::kFloat32;
  if (!known.empty()) fallback = known.begin()->second;
  std::unordered_map<const Node*, std::vector<DType>> types;
  for (const NodePtr& n : nodes) {
    if (n->is_variable()) {
      auto it = known.find(n->name);
      types[n.get()] = {it != known.end() ? it->second : fallback};
      continue;
    }
    std::vector<DType> in;
    for (const NodeEntry& e : n->inputs) in.push_back(types[e.node.get()][e.index]);
    std::vector<DType> out(static_cast<size_t>(n->num_outputs()), fallback);
    try {
      if (n->op->infer_type) {
        n->op->infer_type(n->params, in, &out);
      } else {
        DType t = in.empty() ? fallback : in[0];
        for (size_t i = 1; i < in.size(); ++i) {
          if (in[i] != t) {
            throw Error(ErrorCode::kDType, cat("input ", i, " has dtype ", dtype_name(in[i]),
                                               " but input 0 has dtype ", dtype_name(t)))
                .with_arg(static_cast<int>(i));
          }
        }
        if (in.empty() && n->op->find_param("dtype") && !n->params.is_none("dtype")) {
          t = n->params.get_dtype("dtype");
        }
        out.assign(out.size(), t);
      }
    } catch (Error& e) {
      node_error(*n, e);
    }
    types[n.get()] = out;
  }
  const auto aux_set = aux_variables(nodes);
  args->clear();
  aux->clear();
  outs->clear();
  for (const NodePtr& n : nodes) {
    if (n->is_variable()) (aux_set.count(n.get()) ? aux : args)->push_back(types[n.get()][0]);
  }
  for (const NodeEntry& e : outputs) outs->push_back(types[e.node.get()][e.index]);
}

}  // namespace mxn
