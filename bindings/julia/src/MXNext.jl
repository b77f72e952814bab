# MXNext: the Julia front end of mxnext. Four thin parts over the C ABI
# (capi/include/mxnext/c_api.h): loader, handles (finalizers), errors, values; the operator
# functions are generated (gen_ops.jl). NOT EXECUTED in this repository's CI: no Julia runtime
# can be installed there, so the files are only parsed (tools/julia-syntax).
#
# The mapping rule: an array of C-order shape (d1, ..., dn) is a Julia array of size
# (dn, ..., d1) holding the same bytes (column-major); operator parameters (axes, kernels,
# pads) pass unchanged; MXError shows arg_index and axis 1-based from the structured fields.
module MXNext

using Libdl

export NDArray, SymbolicNode, Executor, MXError, Variable, @chain
export FeedForward, fit, predict, SGD, ArrayDataProvider
export KVStore, pull!, pushpull!, set_optimizer

# ---- loader ------------------------------------------------------------------------------------

# The library: MXNEXT_LIB (a path) at precompile time, else "libmxnext" on the loader path.
const libmxnext = get(ENV, "MXNEXT_LIB", "libmxnext")
const ABI_VERSION = 10005

function __init__()
    v = @ccall libmxnext.mxn_abi_version()::UInt32
    if div(v, 10000) != div(ABI_VERSION, 10000)
        error("MXNext: the library has ABI $(v) but this package was written for $(ABI_VERSION)")
    end
end

# ---- errors ------------------------------------------------------------------------------------

struct ErrorInfo            # mxn_error_info
    struct_size::UInt32
    code::Int32
    arg_index::Int32
    axis::Int32
    kind::Ptr{UInt8}
    message::Ptr{UInt8}
    op_name::Ptr{UInt8}
end

const NO_FIELD = typemin(Int32)

"""An error of the library: `code`, `kind`, `message`, `op_name`, and `arg_index` / `axis`
shown 1-based (a negative axis counts from the end, as given), or `nothing`."""
struct MXError <: Exception
    code::Int
    kind::String
    message::String
    op_name::String
    arg_index::Union{Int,Nothing}
    axis::Union{Int,Nothing}
end

one_based(i) = i == NO_FIELD ? nothing : (i >= 0 ? Int(i) + 1 : Int(i))

function Base.showerror(io::IO, e::MXError)
    where = String[]
    e.arg_index === nothing || push!(where, "argument $(e.arg_index)")
    e.axis === nothing || push!(where, "axis $(e.axis)")
    print(io, e.kind, isempty(where) ? "" : " (" * join(where, ", ") * "; 1-based)", ": ",
          e.message)
end

cstr(p) = p == C_NULL ? "" : unsafe_string(p)

function check(rc::Integer)
    rc == 0 && return nothing
    info = Ref(ErrorInfo(sizeof(ErrorInfo), 0, 0, 0, C_NULL, C_NULL, C_NULL))
    @ccall libmxnext.mxn_last_error(info::Ptr{ErrorInfo})::Cint
    i = info[]
    throw(MXError(i.code, cstr(i.kind), cstr(i.message), cstr(i.op_name),
                  one_based(i.arg_index), one_based(i.axis)))
end

# ---- values ------------------------------------------------------------------------------------

const DTYPES = Dict{String,Int32}("float32" => 0, "float64" => 1, "float16" => 2, "uint8" => 3,
                                  "int32" => 4, "int8" => 5, "int64" => 6, "bool" => 7)
const JULIA_TYPES = Dict{Int32,DataType}(0 => Float32, 1 => Float64, 2 => Float16, 3 => UInt8,
                                         4 => Int32, 5 => Int8, 6 => Int64, 7 => Bool)
dtype_code(t::DataType) = Int32(findfirst(==(t), JULIA_TYPES))
dtype_code(s::AbstractString) = DTYPES[s]
dtype_code(s::Symbol) = DTYPES[String(s)]
dtype_code(i::Integer) = Int32(i)

struct MXValue              # mxn_value: 16 bytes, a tag, a length, an 8-byte payload
    type::Int32
    len::Int32
    payload::UInt64
end

# Converts (keys, type codes, values) to C arrays; `keep` holds what must stay alive.
function to_values(keys, codes, vals, keep)
    ks = Ptr{UInt8}[]
    vs = MXValue[]
    for (k, c, v) in zip(keys, codes, vals)
        v === nothing && continue
        push!(keep, k)
        push!(ks, pointer(k))
        if c == 1
            push!(vs, MXValue(1, 0, reinterpret(UInt64, Int64(v))))
        elseif c == 2
            push!(vs, MXValue(2, 0, reinterpret(UInt64, Float64(v))))
        elseif c == 3
            push!(vs, MXValue(3, 0, UInt64(Bool(v))))
        elseif c == 4
            s = String(v)
            push!(keep, s)
            push!(vs, MXValue(4, 0, UInt64(pointer(s))))
        elseif c == 5
            dims = Int64[x === nothing ? typemin(Int64) : Int64(x) for x in
                         (v isa Number ? (v,) : v)]
            push!(keep, dims)
            push!(vs, MXValue(5, length(dims), UInt64(pointer(dims))))
        elseif c == 6
            push!(vs, MXValue(6, 0, UInt64(dtype_code(v))))
        elseif c == 7
            push!(vs, MXValue(7, Int32(v[2]), UInt64(v[1])))
        else
            error("unknown parameter type code $(c)")
        end
    end
    return ks, vs
end

# ---- handles: NDArray --------------------------------------------------------------------------

"""An array of the library. `size` is Julia's view (the reversed C-order shape)."""
mutable struct NDArray
    handle::Ptr{Cvoid}
    function NDArray(h::Ptr{Cvoid})
        a = new(h)
        finalizer(a) do x
            @ccall libmxnext.mxn_ndarray_free(x.handle::Ptr{Cvoid})::Cvoid
        end
        return a
    end
end

function NDArray(src::AbstractArray{T}) where {T}
    host = Array{T}(src)
    dims = Int64[Base.reverse(size(host))...]
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve host dims begin
        check(@ccall libmxnext.mxn_ndarray_from_data(dims::Ptr{Int64}, length(dims)::Int32,
            dtype_code(T)::Int32, 1::Int32, 0::Int32, host::Ptr{Cvoid},
            sizeof(host)::Csize_t, out::Ptr{Ptr{Cvoid}})::Cint)
    end
    return NDArray(out[])
end
NDArray(x::Number) = NDArray(fill(x))

"""The C-order shape (what Python shows)."""
function cshape(a::NDArray)
    nd = Ref{Int32}(0)
    dims = Ref{Ptr{Int64}}(C_NULL)
    check(@ccall libmxnext.mxn_ndarray_shape(a.handle::Ptr{Cvoid}, nd::Ptr{Int32},
                                             dims::Ptr{Ptr{Int64}})::Cint)
    return Int[unsafe_load(dims[], i) for i in 1:nd[]]
end
Base.size(a::NDArray) = Tuple(Base.reverse(cshape(a)))
Base.length(a::NDArray) = Base.prod(cshape(a); init=1)
Base.ndims(a::NDArray) = length(cshape(a))

function dtype(a::NDArray)
    dt = Ref{Int32}(0)
    check(@ccall libmxnext.mxn_ndarray_dtype(a.handle::Ptr{Cvoid}, dt::Ptr{Int32})::Cint)
    return JULIA_TYPES[dt[]]
end
dtype_name(a::NDArray) = only(k for (k, v) in DTYPES if v == dtype_code(dtype(a)))

"""The values as a Julia array (waits for pending work)."""
function Base.Array(a::NDArray)
    host = Array{dtype(a)}(undef, size(a)...)
    GC.@preserve host begin
        check(@ccall libmxnext.mxn_ndarray_copy_to_host(a.handle::Ptr{Cvoid},
            host::Ptr{Cvoid}, sizeof(host)::Csize_t)::Cint)
    end
    return host
end
Base.copy(a::NDArray) = Array(a)

"""The exact bytes (little-endian, C order)."""
function raw_bytes(a::NDArray)
    host = Array(a)
    return collect(reinterpret(UInt8, vec(host)))
end

function Base.show(io::IO, a::NDArray)
    sz = size(a)
    print(io, "NDArray{", dtype(a), "} ", isempty(sz) ? "0-d" : join(sz, "×"))
end

function _invoke(op::String, inputs::Vector{NDArray}, keys, codes, vals)
    h = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libmxnext.mxn_op_find(op::Cstring, h::Ptr{Ptr{Cvoid}})::Cint)
    keep = Any[]
    ks, vs = to_values(keys, codes, vals, keep)
    ins = Ptr{Cvoid}[x.handle for x in inputs]
    outs = Vector{Ptr{Cvoid}}(undef, 16)
    n = Ref{Int32}(0)
    GC.@preserve keep ks vs ins inputs begin
        check(@ccall libmxnext.mxn_op_invoke(h[]::Ptr{Cvoid}, length(ins)::Int32,
            ins::Ptr{Ptr{Cvoid}}, length(ks)::Int32, ks::Ptr{Ptr{UInt8}}, vs::Ptr{MXValue},
            16::Int32, outs::Ptr{Ptr{Cvoid}}, n::Ptr{Int32})::Cint)
    end
    res = NDArray[NDArray(outs[i]) for i in 1:n[]]
    return length(res) == 1 ? res[1] : res
end

_present(acc, xs...) = (for x in xs; x === nothing || push!(acc, x); end; acc)

# ---- handles: SymbolicNode ---------------------------------------------------------------------

"""A symbol (a node of a graph)."""
mutable struct SymbolicNode
    handle::Ptr{Cvoid}
    function SymbolicNode(h::Ptr{Cvoid})
        s = new(h)
        finalizer(s) do x
            @ccall libmxnext.mxn_symbol_free(x.handle::Ptr{Cvoid})::Cvoid
        end
        return s
    end
end

function Variable(name)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libmxnext.mxn_symbol_variable(String(name)::Cstring,
                                               out::Ptr{Ptr{Cvoid}})::Cint)
    return SymbolicNode(out[])
end

function _compose(op::String, args, argnames, keys, codes, vals, name)
    h = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libmxnext.mxn_op_find(op::Cstring, h::Ptr{Ptr{Cvoid}})::Cint)
    keep = Any[]
    ks, vs = to_values(keys, codes, vals, keep)
    given = [i for i in eachindex(args) if args[i] !== nothing]
    handles = Ptr{Cvoid}[args[i].handle for i in given]
    names = isempty(argnames) ? Ptr{UInt8}[] : Ptr{UInt8}[pointer(argnames[i]) for i in given]
    out = Ref{Ptr{Cvoid}}(C_NULL)
    nm = name === nothing ? C_NULL : pointer(String(name))
    GC.@preserve keep ks vs handles names args argnames name begin
        check(@ccall libmxnext.mxn_symbol_compose(h[]::Ptr{Cvoid}, length(ks)::Int32,
            ks::Ptr{Ptr{UInt8}}, vs::Ptr{MXValue}, nm::Ptr{UInt8}, length(handles)::Int32,
            handles::Ptr{Ptr{Cvoid}}, (isempty(names) ? C_NULL : pointer(names))::Ptr{Ptr{UInt8}},
            0::Int32, C_NULL::Ptr{Ptr{UInt8}}, C_NULL::Ptr{Ptr{UInt8}},
            out::Ptr{Ptr{Cvoid}})::Cint)
    end
    return SymbolicNode(out[])
end

function _strings(list::Ptr{Cvoid})
    n = Ref{Int32}(0)
    check(@ccall libmxnext.mxn_strings_size(list::Ptr{Cvoid}, n::Ptr{Int32})::Cint)
    out = String[]
    for i in 0:n[]-1
        s = Ref{Ptr{UInt8}}(C_NULL)
        check(@ccall libmxnext.mxn_strings_get(list::Ptr{Cvoid}, i::Int32,
                                               s::Ptr{Ptr{UInt8}})::Cint)
        push!(out, unsafe_string(s[]))
    end
    @ccall libmxnext.mxn_strings_free(list::Ptr{Cvoid})::Cvoid
    return out
end

function _list(s::SymbolicNode, kind::Integer)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libmxnext.mxn_symbol_list(s.handle::Ptr{Cvoid}, kind::Int32,
                                           out::Ptr{Ptr{Cvoid}})::Cint)
    return _strings(out[])
end
list_arguments(s::SymbolicNode) = _list(s, 0)
list_outputs(s::SymbolicNode) = _list(s, 1)
list_auxiliary_states(s::SymbolicNode) = _list(s, 2)

function to_json(s::SymbolicNode)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libmxnext.mxn_symbol_to_json(s.handle::Ptr{Cvoid}, out::Ptr{Ptr{Cvoid}})::Cint)
    return only(_strings(out[]))
end

function from_json(json::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libmxnext.mxn_symbol_from_json(String(json)::Cstring,
                                                out::Ptr{Ptr{Cvoid}})::Cint)
    return SymbolicNode(out[])
end

function _shapes(list::Ptr{Cvoid})
    n = Ref{Int32}(0)
    check(@ccall libmxnext.mxn_shapes_size(list::Ptr{Cvoid}, n::Ptr{Int32})::Cint)
    out = Any[]
    for i in 0:n[]-1
        nd = Ref{Int32}(0)
        dims = Ref{Ptr{Int64}}(C_NULL)
        check(@ccall libmxnext.mxn_shapes_get(list::Ptr{Cvoid}, i::Int32, nd::Ptr{Int32},
                                              dims::Ptr{Ptr{Int64}})::Cint)
        # Julia's view: reversed dims
        push!(out, nd[] < 0 ? nothing : Tuple(Base.reverse([Int(unsafe_load(dims[], j))
                                                        for j in 1:nd[]])))
    end
    @ccall libmxnext.mxn_shapes_free(list::Ptr{Cvoid})::Cvoid
    return out
end

"""Infers shapes from some arguments' shapes given in Julia's view (`data=(784, 100)`);
returns (arg_shapes, out_shapes, aux_shapes) in Julia's view."""
function infer_shape(s::SymbolicNode; kwargs...)
    names = String[String(k) for k in keys(kwargs)]
    cdims = [Int64[Base.reverse(collect(v))...] for v in values(kwargs)]
    ndims_ = Int32[length(d) for d in cdims]
    flat = isempty(cdims) ? Int64[] : reduce(vcat, cdims)
    ptrs = Ptr{UInt8}[pointer(n) for n in names]
    a = Ref{Ptr{Cvoid}}(C_NULL); o = Ref{Ptr{Cvoid}}(C_NULL); x = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve names ptrs ndims_ flat begin
        check(@ccall libmxnext.mxn_symbol_infer_shape(s.handle::Ptr{Cvoid},
            length(names)::Int32, ptrs::Ptr{Ptr{UInt8}}, ndims_::Ptr{Int32}, flat::Ptr{Int64},
            0::Int32, a::Ptr{Ptr{Cvoid}}, o::Ptr{Ptr{Cvoid}}, x::Ptr{Ptr{Cvoid}})::Cint)
    end
    return _shapes(a[]), _shapes(o[]), _shapes(x[])
end

"""`@chain a => f(x...) => g(y...)` composes `g(f(a, x...), y...)` (MXNet.jl's `@chain`)."""
macro chain(layers)
    function build(ex)
        if ex isa Expr && ex.head == :call && ex.args[1] == :(=>)
            inner = build(ex.args[2])
            stage = ex.args[3]
            if stage isa Expr && stage.head == :call
                args = copy(stage.args)
                kw = findfirst(a -> a isa Expr && a.head == :parameters, args)
                insert!(args, kw === nothing ? 2 : 3, inner)
                return Expr(:call, args...)
            end
            return Expr(:call, stage, inner)
        end
        return ex
    end
    return esc(build(layers))
end

# ---- executors ---------------------------------------------------------------------------------

mutable struct Executor
    handle::Ptr{Cvoid}
    symbol::SymbolicNode
    arg_dict::Dict{String,NDArray}
    grad_dict::Dict{String,NDArray}
    aux_dict::Dict{String,NDArray}
    outputs::Vector{NDArray}
end

const GRAD_REQ = Dict(:null => Int32(0), :write => Int32(1), :add => Int32(3))

zeros_nd(shape) = _invoke("_zeros", NDArray[], ("shape",), (5,), (collect(Base.reverse(shape)),))

"""Binds `s`, allocating arguments, gradients and auxiliary states from the shapes given in
Julia's view."""
function simple_bind(s::SymbolicNode; grad_req::Symbol=:write, kwargs...)
    arg_shapes, _, aux_shapes = infer_shape(s; kwargs...)
    names = list_arguments(s)
    args = NDArray[zeros_nd(sh) for sh in arg_shapes]
    grads = grad_req == :null ? NDArray[] : NDArray[zeros_nd(sh) for sh in arg_shapes]
    aux = NDArray[zeros_nd(sh) for sh in aux_shapes]
    reqs = fill(GRAD_REQ[grad_req], length(args))
    ah = Ptr{Cvoid}[a.handle for a in args]
    gh = isempty(grads) ? fill(C_NULL, length(args)) : Ptr{Cvoid}[g.handle for g in grads]
    xh = Ptr{Cvoid}[a.handle for a in aux]
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve args grads aux ah gh xh reqs begin
        check(@ccall libmxnext.mxn_executor_bind(s.handle::Ptr{Cvoid}, length(ah)::Int32,
            ah::Ptr{Ptr{Cvoid}}, gh::Ptr{Ptr{Cvoid}}, reqs::Ptr{Int32}, length(xh)::Int32,
            xh::Ptr{Ptr{Cvoid}}, out::Ptr{Ptr{Cvoid}})::Cint)
    end
    n = Ref{Int32}(0)
    check(@ccall libmxnext.mxn_executor_num_outputs(out[]::Ptr{Cvoid}, n::Ptr{Int32})::Cint)
    outs = NDArray[]
    for i in 0:n[]-1
        o = Ref{Ptr{Cvoid}}(C_NULL)
        check(@ccall libmxnext.mxn_executor_output(out[]::Ptr{Cvoid}, i::Int32,
                                                   o::Ptr{Ptr{Cvoid}})::Cint)
        push!(outs, NDArray(o[]))
    end
    ex = Executor(out[], s, Dict(zip(names, args)),
                  isempty(grads) ? Dict{String,NDArray}() : Dict(zip(names, grads)),
                  Dict(zip(list_auxiliary_states(s), aux)), outs)
    finalizer(ex) do x
        @ccall libmxnext.mxn_executor_free(x.handle::Ptr{Cvoid})::Cvoid
    end
    return ex
end

function copy_into!(dst::NDArray, src::NDArray)
    check(@ccall libmxnext.mxn_ndarray_copy_to(src.handle::Ptr{Cvoid},
                                               dst.handle::Ptr{Cvoid})::Cint)
    return dst
end

function forward(ex::Executor; is_train::Bool=false)
    check(@ccall libmxnext.mxn_executor_forward(ex.handle::Ptr{Cvoid}, Int32(is_train)::Int32)::Cint)
    return ex.outputs
end

function backward(ex::Executor, head_grads::Vector{NDArray}=NDArray[])
    hh = Ptr{Cvoid}[h.handle for h in head_grads]
    GC.@preserve head_grads hh begin
        check(@ccall libmxnext.mxn_executor_backward(ex.handle::Ptr{Cvoid},
            length(hh)::Int32, hh::Ptr{Ptr{Cvoid}})::Cint)
    end
    return nothing
end

# ---- files -------------------------------------------------------------------------------------

"""Saves arrays (a Vector, or a Dict/pairs for names) in Apache MXNet's .params format."""
function save(path::AbstractString, arrays::Vector{NDArray}, names=nothing)
    hs = Ptr{Cvoid}[a.handle for a in arrays]
    nm = names === nothing ? nothing : String[String(n) for n in names]
    np = nm === nothing ? C_NULL : pointer(Ptr{UInt8}[pointer(n) for n in nm])
    ptrs = nm === nothing ? nothing : Ptr{UInt8}[pointer(n) for n in nm]
    GC.@preserve arrays hs nm ptrs begin
        check(@ccall libmxnext.mxn_ndarray_save(String(path)::Cstring, length(hs)::Int32,
            hs::Ptr{Ptr{Cvoid}},
            (ptrs === nothing ? C_NULL : pointer(ptrs))::Ptr{Ptr{UInt8}})::Cint)
    end
    return nothing
end

"""Loads a .params file: (arrays, names or nothing)."""
function load(path::AbstractString)
    list = Ref{Ptr{Cvoid}}(C_NULL)
    check(@ccall libmxnext.mxn_ndarray_load(String(path)::Cstring, list::Ptr{Ptr{Cvoid}})::Cint)
    n = Ref{Int32}(0); nn = Ref{Int32}(0)
    check(@ccall libmxnext.mxn_ndarray_list_size(list[]::Ptr{Cvoid}, n::Ptr{Int32},
                                                 nn::Ptr{Int32})::Cint)
    arrays = NDArray[]
    names = nn[] > 0 ? String[] : nothing
    for i in 0:n[]-1
        a = Ref{Ptr{Cvoid}}(C_NULL)
        check(@ccall libmxnext.mxn_ndarray_list_get(list[]::Ptr{Cvoid}, i::Int32,
                                                    a::Ptr{Ptr{Cvoid}})::Cint)
        push!(arrays, NDArray(a[]))
        if names !== nothing
            s = Ref{Ptr{UInt8}}(C_NULL)
            check(@ccall libmxnext.mxn_ndarray_list_name(list[]::Ptr{Cvoid}, i::Int32,
                s::Ptr{Ptr{UInt8}}, C_NULL::Ptr{Csize_t})::Cint)
            push!(names, unsafe_string(s[]))
        end
    end
    @ccall libmxnext.mxn_ndarray_list_free(list[]::Ptr{Cvoid})::Cvoid
    return arrays, names
end

"""Loads an MXNet checkpoint: (symbol, arg_params, aux_params)."""
function load_checkpoint(prefix::AbstractString, epoch::Integer)
    sym = from_json(read("$(prefix)-symbol.json", String))
    arrays, names = load("$(prefix)-$(lpad(epoch, 4, '0')).params")
    arg = Dict{String,NDArray}(); aux = Dict{String,NDArray}()
    for (n, a) in zip(something(names, String[]), arrays)
        startswith(n, "arg:") && (arg[n[5:end]] = a)
        startswith(n, "aux:") && (aux[n[5:end]] = a)
    end
    return sym, arg, aux
end

"""Saves an MXNet checkpoint."""
function save_checkpoint(prefix::AbstractString, epoch::Integer, sym::SymbolicNode,
                         arg::AbstractDict, aux::AbstractDict)
    write("$(prefix)-symbol.json", to_json(sym))
    names = vcat(["arg:" * k for k in keys(arg)], ["aux:" * k for k in keys(aux)])
    save("$(prefix)-$(lpad(epoch, 4, '0')).params", NDArray[values(arg)..., values(aux)...],
         names)
end

seed!(s::Integer) = check(@ccall libmxnext.mxn_random_seed(UInt64(s)::UInt64)::Cint)

# ---- generated operators, then arithmetic on top of them ---------------------------------------

include("gen_ops.jl")
include("training.jl")
include("kvstore.jl")

Base.:+(a::NDArray, b::NDArray) = broadcast_add(a, b)
Base.:-(a::NDArray, b::NDArray) = broadcast_sub(a, b)
Base.:*(a::NDArray, b::NDArray) = broadcast_mul(a, b)
Base.:/(a::NDArray, b::NDArray) = broadcast_div(a, b)
Base.:+(a::NDArray, s::Real) = _plus_scalar(a; scalar=s)
Base.:+(s::Real, a::NDArray) = _plus_scalar(a; scalar=s)
Base.:-(a::NDArray, s::Real) = _minus_scalar(a; scalar=s)
Base.:-(s::Real, a::NDArray) = _rminus_scalar(a; scalar=s)
Base.:*(a::NDArray, s::Real) = _mul_scalar(a; scalar=s)
Base.:*(s::Real, a::NDArray) = _mul_scalar(a; scalar=s)
Base.:/(a::NDArray, s::Real) = _div_scalar(a; scalar=s)
Base.:/(s::Real, a::NDArray) = _rdiv_scalar(a; scalar=s)
Base.:-(a::NDArray) = negative(a)

end # module
