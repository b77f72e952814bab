# Julia conformance runner: interprets tests/conformance/cases/*.json with MXNext, writes the
# shared results file (MXNEXT_CONFORMANCE_RESULTS) and ends with `N passed, M failed`.
# NOT EXECUTED in this repository's CI (no Julia runtime there); the file is only parsed.
using Test
using JSON
using MXNext
const mx = MXNext

const CASES_DIR = joinpath(@__DIR__, "..", "..", "..", "tests", "conformance", "cases")
const JULIA_RESERVED = Set(["baremodule", "begin", "break", "catch", "const", "continue", "do",
    "else", "elseif", "end", "export", "false", "finally", "for", "function", "global", "if",
    "import", "let", "local", "macro", "module", "quote", "return", "struct", "true", "try",
    "using", "while", "where", "in", "isa", "outer", "abstract", "mutable", "primitive", "type",
    "as"])
jl(name) = Symbol(name in JULIA_RESERVED ? name * "_" : name)

struct CaseFailure <: Exception
    msg::String
end

num(x) = x === nothing ? nothing : x isa String ? Dict("nan" => NaN, "inf" => Inf,
                                                       "-inf" => -Inf)[x] : x
shape_str(s) = "(" * join(string.(s), ",") * ")"
fmt(v) = v === nothing ? "-" : string(v)
c_field(v) = v === nothing ? nothing : (v >= 1 ? v - 1 : v)   # 1-based view -> C field
const JL_TYPES = Dict("float32" => Float32, "float64" => Float64, "float16" => Float16,
                      "uint8" => UInt8, "int32" => Int32, "int8" => Int8, "int64" => Int64,
                      "bool" => Bool)

function make_array(step)
    T = JL_TYPES[step["dtype"]]
    shape = Int[step["shape"]...]
    vals = [T(num(v)) for v in step["values"]]
    # C-order values and shape -> a Julia array of reversed dims: the same bytes.
    return mx.NDArray(reshape(vals, Tuple(reverse(shape))...))
end

params_of(p) = Dict{Symbol,Any}(jl(k) => (v isa Vector ? Tuple(num.(v)) : v) for (k, v) in p)
array_line(a) = "$(mx.dtype_name(a)) $(shape_str(mx.cshape(a))) $(bytes2hex(mx.raw_bytes(a)))"

function run_case(case, lines, workdir)
    slots = Dict{String,Any}()
    cid = case["id"]
    rec(i, kind, payload) = push!(lines, "$(cid)\t$(i)\t$(kind)\t$(payload)")
    function expect_error(i, expected, f)
        err = try
            f(); nothing
        catch e
            e isa mx.MXError || rethrow()
            e
        end
        err === nothing && throw(CaseFailure("step $(i): expected error, got success"))
        arg, axis = c_field(err.arg_index), c_field(err.axis)
        rec(i, "error", "$(err.code) $(fmt(arg)) $(fmt(axis))")
        ok = err.code == expected["code"]
        if !(expected["arg_index"] === nothing && expected["axis"] === nothing)
            ok &= arg == expected["arg_index"] && axis == expected["axis"]
        end
        ok || throw(CaseFailure("step $(i): error fields differ: $(err)"))
    end
    for (i0, step) in enumerate(case["steps"])
        i = i0 - 1
        d = step["do"]
        if d == "array"
            slots[step["slot"]] = make_array(step)
        elseif d == "seed"
            mx.seed!(step["value"])
        elseif d == "invoke"
            f = getfield(mx, jl(step["fn"]))
            ins = [slots[s] for s in step["inputs"]]
            call() = (out = f(ins...; params_of(step["params"])...);
                      outs = out isa mx.NDArray ? [out] : out; foreach(mx.raw_bytes, outs); outs)
            if haskey(step, "error")
                expect_error(i, step["error"], call)
                continue
            end
            outs = call()
            for (n, o) in zip(step["outputs"], outs)
                slots[n] = o
            end
        elseif d == "check" || d == "check_range" || d == "check_sorted_equal"
            a = slots[step["slot"]]
            rec(i, "array", array_line(a))
            d == "check" || continue
            mx.dtype_name(a) == step["dtype"] && mx.cshape(a) == step["shape"] ||
                throw(CaseFailure("step $(i): dtype or shape differ"))
            if haskey(step, "hex")
                bytes2hex(mx.raw_bytes(a)) == step["hex"] ||
                    throw(CaseFailure("step $(i): bytes differ"))
            else
                got = Float64.(vec(permutedims(Array(a), ndims(a):-1:1)))
                want = Float64[num(v) for v in step["values"]]
                all((isnan(g) && isnan(w)) || abs(g - w) <= step["atol"] + step["rtol"] * abs(w)
                    for (g, w) in zip(got, want)) || throw(CaseFailure("step $(i): values differ"))
            end
        elseif d == "check_same"
            mx.raw_bytes(slots[step["slot"]]) == mx.raw_bytes(slots[step["like"]]) ||
                throw(CaseFailure("step $(i): arrays differ"))
        elseif d == "variable"
            slots[step["slot"]] = mx.Variable(step["name"])
        elseif d == "compose"
            f = getfield(mx, jl(step["fn"]))
            slots[step["out"]] = f([slots[s] for s in step["args"]]...;
                                   params_of(step["params"])..., name=step["name"])
        elseif d == "list"
            s = slots[step["sym"]]
            names = step["kind"] == "arguments" ? mx.list_arguments(s) :
                    step["kind"] == "outputs" ? mx.list_outputs(s) : mx.list_auxiliary_states(s)
            rec(i, "names", join(names, ","))
            names == step["expect"] || throw(CaseFailure("step $(i): names differ"))
        elseif d == "infer_shape"
            s = slots[step["sym"]]
            kw = Dict(Symbol(k) => Tuple(reverse(v)) for (k, v) in step["shapes"])
            if haskey(step, "error")
                expect_error(i, step["error"], () -> mx.infer_shape(s; kw...))
                continue
            end
            got = [[collect(reverse(x)) for x in l] for l in mx.infer_shape(s; kw...)]
            rec(i, "shapes", join([join(shape_str.(l), " ") for l in got], ";"))
            got == [step["expect"]["arguments"], step["expect"]["outputs"],
                    step["expect"]["aux_states"]] || throw(CaseFailure("step $(i): shapes"))
        elseif d == "simple_bind"
            kw = Dict(Symbol(k) => Tuple(reverse(v)) for (k, v) in step["shapes"])
            ex = mx.simple_bind(slots[step["sym"]]; grad_req=Symbol(step["grad_req"]), kw...)
            for (n, s) in step["args"]
                mx.copy_into!(ex.arg_dict[n], slots[s])
            end
            slots[step["exec"]] = ex
        elseif d == "forward"
            outs = mx.forward(slots[step["exec"]]; is_train=step["is_train"])
            for (n, o) in zip(step["outputs"], outs)
                slots[n] = o
            end
        elseif d == "backward"
            mx.backward(slots[step["exec"]], mx.NDArray[slots[s] for s in step["head_grads"]])
        elseif d == "grad"
            slots[step["out"]] = slots[step["exec"]].grad_dict[step["name"]]
        elseif d == "symbol_json"
            slots[step["out"]] = mx.from_json(mx.to_json(slots[step["sym"]]))
        elseif d == "write_file"
            write(joinpath(workdir, step["file"]), hex2bytes(step["hex"]))
        elseif d == "save_params"
            path = joinpath(workdir, step["file"])
            mx.save(path, mx.NDArray[slots[s] for s in step["arrays"]], step["names"])
            got = bytes2hex(read(path))
            rec(i, "file", got)
            got == step["hex"] || throw(CaseFailure("step $(i): file bytes differ"))
        elseif d == "load_params"
            path = joinpath(workdir, step["file"])
            if haskey(step, "error")
                expect_error(i, step["error"], () -> mx.load(path))
                continue
            end
            arrays, names = mx.load(path)
            rec(i, "names", names === nothing ? "-" : join(names, ","))
            names == step["names"] || throw(CaseFailure("step $(i): names differ"))
            for (n, a) in zip(step["outputs"], arrays)
                slots[n] = a
            end
        elseif d == "save_checkpoint"
            mx.save_checkpoint(joinpath(workdir, step["prefix"]), step["epoch"],
                               slots[step["sym"]],
                               Dict(k => slots[v] for (k, v) in step["arg_params"]),
                               Dict(k => slots[v] for (k, v) in step["aux_params"]))
        elseif d == "load_checkpoint"
            sym, arg, aux = mx.load_checkpoint(joinpath(workdir, step["prefix"]), step["epoch"])
            slots[step["sym"]] = sym
            for (k, v) in step["arg_params"]
                slots[v] = arg[k]
            end
            for (k, v) in step["aux_params"]
                slots[v] = aux[k]
            end
        elseif startswith(d, "kv_")
            kv_step(i, step, slots, expect_error)
        else
            throw(CaseFailure("step $(i): unknown step $(d)"))
        end
    end
end

# KVStore steps (README.md): a single key goes in the one-key form (key, arrays), several keys
# as vectors; pull outputs are existing slots, written in place.
function kv_step(i, step, slots, expect_error)
    d = step["do"]
    keys = get(step, "keys", nothing)
    one = keys !== nothing && length(keys) == 1
    key = one ? keys[1] : keys
    arrays(groups) = (g = [mx.NDArray[slots[s] for s in grp] for grp in groups]; one ? g[1] : g)
    prio = something(get(step, "priority", nothing), 0)
    call = if d == "kv_create"
        () -> mx.KVStore(step["type"])
    elseif d == "kv_init"
        vals = mx.NDArray[slots[s] for s in step["values"]]
        () -> mx.init!(slots[step["kv"]], key, one ? vals[1] : vals)
    elseif d == "kv_push"
        () -> push!(slots[step["kv"]], key, arrays(step["values"]); priority=prio)
    elseif d == "kv_pull"
        () -> mx.pull!(slots[step["kv"]], key, arrays(step["outputs"]); priority=prio)
    elseif d == "kv_pushpull"
        outs = step["outputs"] === nothing ? nothing : arrays(step["outputs"])
        () -> mx.pushpull!(slots[step["kv"]], key, arrays(step["values"]), outs; priority=prio)
    elseif d == "kv_set_optimizer"
        () -> mx.set_optimizer(slots[step["kv"]],
            mx.CoreOptimizer(step["optimizer"]; (Symbol(k) => v for (k, v) in step["params"])...))
    else
        throw(CaseFailure("step $(i): unknown step $(d)"))
    end
    if haskey(step, "error")
        expect_error(i, step["error"], call)
        return nothing
    end
    result = call()
    d == "kv_create" && (slots[step["kv"]] = result)
    return nothing
end

function main()
    cases = []
    for f in sort(filter(endswith(".json"), readdir(CASES_DIR; join=true)))
        append!(cases, JSON.parsefile(f)["cases"])
    end
    lines = String[]
    workdir = mktempdir()
    passed = failed = 0
    for case in cases
        problem = try
            run_case(case, lines, workdir); nothing
        catch e
            e isa CaseFailure || push!(lines, "$(case["id"])\t-\texception\t" *
                                       (e isa mx.MXError ? string(e.code) : "-"))
            sprint(showerror, e)
        end
        mark = get(case, "known_failure", nothing)
        if mark !== nothing && "julia" in mark["runners"]
            problem === nothing ? (failed += 1) : (passed += 1)
        elseif problem === nothing
            passed += 1
        else
            failed += 1
            println("FAIL $(case["id"]): $(problem)")
        end
    end
    out = get(ENV, "MXNEXT_CONFORMANCE_RESULTS", "")
    isempty(out) || write(out, join(lines, "\n") * "\n")
    println("$(passed) passed, $(failed) failed")
    return failed
end

@testset "conformance" begin
    @test main() == 0
end
