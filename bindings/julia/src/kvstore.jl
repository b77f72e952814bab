# KVStore (unexecuted here: no Julia runtime in this repository's CI; parsed by
# tools/julia-syntax): MXNet.jl's KVStore over mxn_kvstore_*. A push sums the arrays given for
# a key, then the store's optimizer (set_optimizer, a CoreOptimizer whose state stays in the
# core) updates the stored weight, or the sum replaces the value; pull! copies into existing
# arrays. Keys are integers or strings, labels passed unchanged (not 1-based indices).

"""A key-value store of the core: "local" (kept and summed on the CPU) or "device"."""
mutable struct KVStore
    handle::Ptr{Cvoid}
    function KVStore(kv_type::AbstractString="local")
        out = Ref{Ptr{Cvoid}}(C_NULL)
        check(@ccall libmxnext.mxn_kvstore_create(String(kv_type)::Cstring,
                                                  out::Ptr{Ptr{Cvoid}})::Cint)
        kv = new(out[])
        finalizer(kv) do x
            @ccall libmxnext.mxn_kvstore_free(x.handle::Ptr{Cvoid})::Cvoid
        end
        return kv
    end
end

const KVKey = Union{Integer,AbstractString}

"""The store's type, rank and number of workers."""
function kv_info(kv::KVStore)
    t = Ref{Ptr{UInt8}}(C_NULL)
    r = Ref{Int32}(0)
    n = Ref{Int32}(0)
    check(@ccall libmxnext.mxn_kvstore_info(kv.handle::Ptr{Cvoid}, t::Ptr{Ptr{UInt8}},
                                            r::Ptr{Int32}, n::Ptr{Int32})::Cint)
    return (type=cstr(t[]), rank=Int(r[]), num_workers=Int(n[]))
end

# Keys as typed values (MXN_VALUE_INT / MXN_VALUE_STRING); `keep` holds the strings.
function _kv_keys(keys, keep)
    vs = MXValue[]
    for k in keys
        if k isa AbstractString
            s = String(k)
            push!(keep, s)
            push!(vs, MXValue(4, 0, UInt64(pointer(s))))
        else
            push!(vs, MXValue(1, 0, reinterpret(UInt64, Int64(k))))
        end
    end
    return vs
end

_kv_group(v::NDArray) = NDArray[v]
_kv_group(v::AbstractVector) = NDArray[x for x in v]

# One key with an NDArray or a vector of them, or a vector of keys with one entry per key.
function _kv_args(keys, vals)
    keys isa KVKey && return Any[keys], Vector{NDArray}[_kv_group(vals)]
    length(keys) == length(vals) ||
        throw(ArgumentError("one entry per key: $(length(keys)) keys, $(length(vals)) entries"))
    return Any[k for k in keys], Vector{NDArray}[_kv_group(v) for v in vals]
end

_kv_counts(groups) = Int32[length(g) for g in groups]
_kv_handles(groups) = Ptr{Cvoid}[a.handle for g in groups for a in g]

"""Stores a copy of one array per key."""
function init!(kv::KVStore, keys, vals)
    ks, groups = _kv_args(keys, vals)
    all(g -> length(g) == 1, groups) || throw(ArgumentError("init! takes one NDArray per key"))
    keep = Any[]
    kv_vals = _kv_keys(ks, keep)
    hs = _kv_handles(groups)
    GC.@preserve keep kv_vals hs groups begin
        check(@ccall libmxnext.mxn_kvstore_init(kv.handle::Ptr{Cvoid}, length(ks)::Int32,
            kv_vals::Ptr{MXValue}, hs::Ptr{Ptr{Cvoid}})::Cint)
    end
    return kv
end

"""Sums the arrays of each key, then updates (optimizer) or stores the sum."""
function Base.push!(kv::KVStore, keys, vals; priority::Integer=0)
    ks, groups = _kv_args(keys, vals)
    keep = Any[]
    kv_vals = _kv_keys(ks, keep)
    counts = _kv_counts(groups)
    hs = _kv_handles(groups)
    GC.@preserve keep kv_vals counts hs groups begin
        check(@ccall libmxnext.mxn_kvstore_push(kv.handle::Ptr{Cvoid}, length(ks)::Int32,
            kv_vals::Ptr{MXValue}, counts::Ptr{Int32}, hs::Ptr{Ptr{Cvoid}},
            Int32(priority)::Int32)::Cint)
    end
    return kv
end

"""Copies each key's value into existing arrays (in place; another dtype is converted)."""
function pull!(kv::KVStore, keys, outs; priority::Integer=0)
    ks, groups = _kv_args(keys, outs)
    keep = Any[]
    kv_vals = _kv_keys(ks, keep)
    counts = _kv_counts(groups)
    hs = _kv_handles(groups)
    GC.@preserve keep kv_vals counts hs groups begin
        check(@ccall libmxnext.mxn_kvstore_pull(kv.handle::Ptr{Cvoid}, length(ks)::Int32,
            kv_vals::Ptr{MXValue}, counts::Ptr{Int32}, hs::Ptr{Ptr{Cvoid}},
            Int32(priority)::Int32)::Cint)
    end
    return outs
end

"""push! then pull!; `outs === nothing` pulls back into the pushed arrays."""
function pushpull!(kv::KVStore, keys, vals, outs=nothing; priority::Integer=0)
    ks, groups = _kv_args(keys, vals)
    keep = Any[]
    kv_vals = _kv_keys(ks, keep)
    counts = _kv_counts(groups)
    hs = _kv_handles(groups)
    ogroups = outs === nothing ? Vector{NDArray}[] : _kv_args(keys, outs)[2]
    ocounts = _kv_counts(ogroups)
    ohs = _kv_handles(ogroups)
    GC.@preserve keep kv_vals counts hs groups ocounts ohs ogroups begin
        check(@ccall libmxnext.mxn_kvstore_pushpull(kv.handle::Ptr{Cvoid}, length(ks)::Int32,
            kv_vals::Ptr{MXValue}, counts::Ptr{Int32}, hs::Ptr{Ptr{Cvoid}},
            (outs === nothing ? C_NULL : pointer(ocounts))::Ptr{Int32},
            (outs === nothing ? C_NULL : pointer(ohs))::Ptr{Ptr{Cvoid}},
            Int32(priority)::Int32)::Cint)
    end
    return outs === nothing ? vals : outs
end

"""Updates on the store with `opt` (shared with the store: its state lives in the core)."""
function set_optimizer(kv::KVStore, opt::CoreOptimizer)
    check(@ccall libmxnext.mxn_kvstore_set_optimizer(kv.handle::Ptr{Cvoid},
                                                     opt.handle::Ptr{Cvoid})::Cint)
    return kv
end
