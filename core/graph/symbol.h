// Symbol: a declarative graph (DESIGN §5) — composition, listing, attributes, MXNet's JSON
// format, and shape/dtype inference.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/graph/node.h"

namespace mxn {

class Symbol {
 public:
  std::vector<NodeEntry> outputs;

  static Symbol variable(const std::string& name);
  // Applies `op` to args: positional ones fill the op's inputs in order, named ones (arg_names
  // non-empty, same length as args; "" for positional) go by input name. Missing inputs become
  // variables named "<name>_<input>" (fc1_weight). An empty name takes an automatic one
  // ("fullyconnected0"). Every arg must have exactly one output.
  static Symbol compose(const OpDef& op, OpParams params, std::string name,
                        const std::vector<Symbol>& args, const std::vector<std::string>& arg_names,
                        const std::map<std::string, std::string>& attrs);
  static Symbol group(const std::vector<Symbol>& parts);

  Symbol output(size_t index) const;
  Symbol internals() const;  // every output of every node
  Symbol children() const;   // the inputs of the head node(s)

  // Every node reachable from the outputs, inputs before users (post-order DFS).
  std::vector<NodePtr> topo() const;
  std::vector<std::string> list_arguments() const;  // variables that are not aux states
  std::vector<std::string> list_auxiliary_states() const;
  std::vector<std::string> list_inputs() const;  // all variables
  std::vector<std::string> list_outputs() const;
  // Name of the single head node ("" for a group).
  std::string name() const;

  std::string to_json() const;
  // Reads MXNet's symbol JSON, old ("param"/"attr" keys, no mxnet_version) and new. Keys that
  // are not parameters of the node's operator are kept as node attributes.
  static Symbol from_json(const std::string& json);

  // Shapes by argument name (unknown ones: Shape::unknown()). Fills args/outputs/aux in list
  // order. Without `partial`, an argument or output left unknown is kShape naming it.
  void infer_shape(const std::map<std::string, Shape>& known, std::vector<Shape>* args,
                   std::vector<Shape>* outs, std::vector<Shape>* aux, bool partial) const;
  // Dtypes by argument name; unknown arguments default to the first known dtype (float32).
  void infer_type(const std::map<std::string, DType>& known, std::vector<DType>* args,
                  std::vector<DType>* outs, std::vector<DType>* aux) const;
};

// Automatic node names, MXNet's rule: hint + per-hint counter ("fullyconnected0"); counters
// are per thread. reset_auto_names starts them over.
std::string auto_name(const std::string& hint);
void reset_auto_names();

}  // namespace mxn
