# Training (unexecuted here: no Julia runtime in this repository's CI; parsed by
# tools/julia-syntax): FeedForward, fit and predict over the executor and the core's optimizer,
# initializer and metric objects (mxn_optimizer_*, mxn_initializer_*, mxn_metric_*), the same
# calls as the R package's mx.model.FeedForward.create. Examples are the last dim (Julia's view
# of C-order (n, ...)).

abstract type AbstractOptimizer end

"""An optimizer of the core by name ("sgd", "nag", "adam", ...), parameters by schema name."""
mutable struct CoreOptimizer <: AbstractOptimizer
    handle::Ptr{Cvoid}
    name::String
    params::Dict{String,Any}
end

_code(v) = v isa Bool ? 3 : v isa AbstractString ? 4 : v isa Integer ? 1 : 2

function _create(fn::Symbol, name::AbstractString, params::AbstractDict)
    ks = String[String(k) for k in keys(params)]
    vals = Any[params[k] for k in keys(params)]
    keep = Any[]
    kp, vs = to_values(ks, Int[_code(v) for v in vals], vals, keep)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve keep kp vs begin
        if fn === :optimizer
            check(@ccall libmxnext.mxn_optimizer_create(String(name)::Cstring,
                length(kp)::Int32, kp::Ptr{Ptr{UInt8}}, vs::Ptr{MXValue},
                out::Ptr{Ptr{Cvoid}})::Cint)
        elseif fn === :initializer
            check(@ccall libmxnext.mxn_initializer_create(String(name)::Cstring,
                length(kp)::Int32, kp::Ptr{Ptr{UInt8}}, vs::Ptr{MXValue},
                out::Ptr{Ptr{Cvoid}})::Cint)
        else
            check(@ccall libmxnext.mxn_metric_create(String(name)::Cstring,
                length(kp)::Int32, kp::Ptr{Ptr{UInt8}}, vs::Ptr{MXValue},
                out::Ptr{Ptr{Cvoid}})::Cint)
        end
    end
    return out[]
end

function CoreOptimizer(name::AbstractString; kwargs...)
    params = Dict{String,Any}(String(k) => v for (k, v) in kwargs if v !== nothing)
    opt = CoreOptimizer(_create(:optimizer, name, params), String(name), params)
    finalizer(opt) do x
        @ccall libmxnext.mxn_optimizer_free(x.handle::Ptr{Cvoid})::Cvoid
    end
    return opt
end

"""MXNet.jl's `mx.SGD(lr=..., momentum=..., weight_decay=...)`: the core's "sgd"."""
SGD(; lr::Real=0.01, momentum::Real=0.0, weight_decay::Real=0.0001,
    grad_clip::Union{Nothing,Real}=nothing) =
    CoreOptimizer("sgd"; learning_rate=Float64(lr), momentum=Float64(momentum),
                  wd=Float64(weight_decay),
                  clip_gradient=grad_clip === nothing ? nothing : Float64(grad_clip))

function set_param!(opt::CoreOptimizer, key::AbstractString, value::Real)
    keep = Any[]
    _, vs = to_values((String(key),), (2,), (Float64(value),), keep)
    GC.@preserve keep vs begin
        check(@ccall libmxnext.mxn_optimizer_set_param(opt.handle::Ptr{Cvoid},
            String(key)::Cstring, vs::Ptr{MXValue})::Cint)
    end
    return opt
end

function update!(opt::CoreOptimizer, index::Integer, weight::NDArray, grad::NDArray)
    check(@ccall libmxnext.mxn_optimizer_update(opt.handle::Ptr{Cvoid}, Int64(index)::Int64,
        C_NULL::Ptr{UInt8}, weight.handle::Ptr{Cvoid}, grad.handle::Ptr{Cvoid})::Cint)
    return weight
end

"""An initializer of the core ("uniform", "normal", "xavier", ...)."""
mutable struct Initializer
    handle::Ptr{Cvoid}
    function Initializer(name::AbstractString; kwargs...)
        params = Dict{String,Any}(String(k) => v for (k, v) in kwargs)
        init = new(_create(:initializer, name, params))
        finalizer(init) do x
            @ccall libmxnext.mxn_initializer_free(x.handle::Ptr{Cvoid})::Cvoid
        end
        return init
    end
end
UniformInitializer(scale::Real=0.07) = Initializer("uniform"; scale=Float64(scale))
NormalInitializer(; mu::Real=0.0, sigma::Real=0.01) = Initializer("normal"; sigma=Float64(sigma))
XavierInitializer(; rnd_type="uniform", factor_type="avg", magnitude::Real=3.0) =
    Initializer("xavier"; rnd_type=String(rnd_type), factor_type=String(factor_type),
                magnitude=Float64(magnitude))

function init!(init::Initializer, name::AbstractString, array::NDArray)
    check(@ccall libmxnext.mxn_initializer_apply(init.handle::Ptr{Cvoid}, String(name)::Cstring,
        C_NULL::Ptr{UInt8}, array.handle::Ptr{Cvoid})::Cint)
    return array
end

"""A metric of the core ("accuracy", "mse", "ce", ...)."""
mutable struct Metric
    handle::Ptr{Cvoid}
    function Metric(name::AbstractString; kwargs...)
        params = Dict{String,Any}(String(k) => v for (k, v) in kwargs)
        m = new(_create(:metric, name, params))
        finalizer(m) do x
            @ccall libmxnext.mxn_metric_free(x.handle::Ptr{Cvoid})::Cvoid
        end
        return m
    end
end
Accuracy() = Metric("accuracy")
MSE() = Metric("mse")

reset!(m::Metric) = check(@ccall libmxnext.mxn_metric_reset(m.handle::Ptr{Cvoid}, 0::Int32)::Cint)

function update!(m::Metric, labels::Vector{NDArray}, preds::Vector{NDArray})
    lh = Ptr{Cvoid}[l.handle for l in labels]
    ph = Ptr{Cvoid}[p.handle for p in preds]
    GC.@preserve labels preds lh ph begin
        check(@ccall libmxnext.mxn_metric_update(m.handle::Ptr{Cvoid}, length(lh)::Int32,
            lh::Ptr{Ptr{Cvoid}}, length(ph)::Int32, ph::Ptr{Ptr{Cvoid}})::Cint)
    end
    return m
end

"""The metric's values as name => value pairs."""
function metric_values(m::Metric)
    vals = Vector{Float64}(undef, 64)
    n = Ref{Int32}(0)
    check(@ccall libmxnext.mxn_metric_get(m.handle::Ptr{Cvoid}, 0::Int32, 64::Int32,
        vals::Ptr{Float64}, n::Ptr{Int32})::Cint)
    out = Pair{String,Float64}[]
    for i in 0:n[]-1
        s = Ref{Ptr{UInt8}}(C_NULL)
        check(@ccall libmxnext.mxn_metric_name(m.handle::Ptr{Cvoid}, i::Int32,
                                               s::Ptr{Ptr{UInt8}})::Cint)
        push!(out, unsafe_string(s[]) => vals[i+1])
    end
    return out
end

# ---- data -------------------------------------------------------------------------------------

"""MXNet.jl's ArrayDataProvider: examples in the last dim of `data` (and of `label`), batches
of `batch_size`; the last batch wraps around to the first examples (MXNet's padding)."""
struct ArrayDataProvider
    data::Array{Float32}
    label::Union{Nothing,Vector{Float32}}
    batch_size::Int
    shuffle::Bool
    data_name::String
    label_name::String
end

function ArrayDataProvider(data::AbstractArray, label=nothing; batch_size::Integer=0,
                           shuffle::Bool=false, data_name="data", label_name="softmax_label")
    n = size(data, ndims(data))
    bs = batch_size == 0 ? n : min(Int(batch_size), n)
    lab = label === nothing ? nothing : Vector{Float32}(vec(label))
    lab !== nothing && length(lab) != n &&
        throw(ArgumentError("data has $(n) examples but label has $(length(lab))"))
    return ArrayDataProvider(Array{Float32}(data), lab, bs, shuffle, String(data_name),
                             String(label_name))
end

num_examples(p::ArrayDataProvider) = size(p.data, ndims(p.data))
num_batches(p::ArrayDataProvider) = cld(num_examples(p), p.batch_size)
batch_indices(p::ArrayDataProvider, b::Integer) =
    [mod(i, num_examples(p)) + 1 for i in (b - 1) * p.batch_size:b * p.batch_size - 1]
feature_size(p::ArrayDataProvider) = size(p.data)[1:end-1]

function batch_data(p::ArrayDataProvider, idx::Vector{Int}, order::Vector{Int})
    return selectdim(p.data, ndims(p.data), order[idx])
end

# ---- models -----------------------------------------------------------------------------------

"""MXNet.jl's FeedForward: a symbol, its trained parameters, and the context."""
mutable struct FeedForward
    arch::SymbolicNode
    ctx::Any
    arg_params::Dict{String,NDArray}
    aux_params::Dict{String,NDArray}
end
FeedForward(arch::SymbolicNode; context=nothing) =
    FeedForward(arch, context, Dict{String,NDArray}(), Dict{String,NDArray}())

"""A FeedForward model from a checkpoint (mx.load_checkpoint's files)."""
function FeedForward(prefix::AbstractString, epoch::Integer)
    sym, arg, aux = load_checkpoint(prefix, epoch)
    return FeedForward(sym, nothing, arg, aux)
end

_label_name(s::SymbolicNode) = only(filter(n -> endswith(n, "_label"), list_arguments(s)))

"""Trains `model` on `data` (an ArrayDataProvider) for `n_epoch` epochs with `optimizer`
(the core's update rule; rescale_grad is set to 1/batch size)."""
function fit(model::FeedForward, optimizer::CoreOptimizer, data::ArrayDataProvider;
             n_epoch::Integer=10, initializer::Initializer=UniformInitializer(0.01),
             eval_metric::Metric=Accuracy(), verbose::Bool=true)
    data.label === nothing && throw(ArgumentError("fit needs labels"))
    label = _label_name(model.arch)
    shapes = Dict(Symbol(data.data_name) => (feature_size(data)..., data.batch_size))
    ex = simple_bind(model.arch; grad_req=:write, shapes...)
    params = String[n for n in list_arguments(model.arch)
                    if n != data.data_name && n != label]
    for (i, p) in enumerate(params)
        if haskey(model.arg_params, p)
            copy_into!(ex.arg_dict[p], model.arg_params[p])
        else
            init!(initializer, p, ex.arg_dict[p])
        end
        check(@ccall libmxnext.mxn_optimizer_set_param_name(optimizer.handle::Ptr{Cvoid},
            Int64(i - 1)::Int64, p::Cstring)::Cint)
    end
    for (a, arr) in ex.aux_dict
        haskey(model.aux_params, a) ? copy_into!(arr, model.aux_params[a]) : init!(initializer, a, arr)
    end
    set_param!(optimizer, "rescale_grad", 1.0 / data.batch_size)
    n = num_examples(data)
    for epoch in 1:n_epoch
        reset!(eval_metric)
        order = data.shuffle ? sortperm(rand(n)) : collect(1:n)
        for b in 1:num_batches(data)
            idx = batch_indices(data, b)
            copy_into!(ex.arg_dict[data.data_name], NDArray(Array(batch_data(data, idx, order))))
            copy_into!(ex.arg_dict[label], NDArray(data.label[order[idx]]))
            forward(ex; is_train=true)
            backward(ex)
            for (i, p) in enumerate(params)
                update!(optimizer, i - 1, ex.arg_dict[p], ex.grad_dict[p])
            end
            update!(eval_metric, NDArray[ex.arg_dict[label]], NDArray[ex.outputs[1]])
        end
        verbose && println("## Training summary, epoch $(epoch): ",
                           join(["$(k)=$(v)" for (k, v) in metric_values(eval_metric)], ", "))
    end
    model.arg_params = Dict{String,NDArray}(p => NDArray(Array(ex.arg_dict[p])) for p in params)
    model.aux_params = Dict{String,NDArray}(a => NDArray(Array(arr)) for (a, arr) in ex.aux_dict)
    return model
end

"""Predicts the first output for every example of `data`, examples in the last dim."""
function predict(model::FeedForward, data::ArrayDataProvider)
    isempty(model.arg_params) && throw(ArgumentError("the model has no parameters: fit it first"))
    shapes = Dict(Symbol(data.data_name) => (feature_size(data)..., data.batch_size))
    ex = simple_bind(model.arch; grad_req=:null, shapes...)
    for (p, arr) in ex.arg_dict
        if haskey(model.arg_params, p)
            copy_into!(arr, model.arg_params[p])
        elseif p != data.data_name && !endswith(p, "_label")
            throw(ArgumentError("the model has no parameter $(p)"))
        end
    end
    for (a, arr) in ex.aux_dict
        haskey(model.aux_params, a) && copy_into!(arr, model.aux_params[a])
    end
    n = num_examples(data)
    order = collect(1:n)
    parts = Array[]
    for b in 1:num_batches(data)
        idx = batch_indices(data, b)
        copy_into!(ex.arg_dict[data.data_name], NDArray(Array(batch_data(data, idx, order))))
        forward(ex; is_train=false)
        out = Array(ex.outputs[1])
        keep = count(i -> i <= n, (b - 1) * data.batch_size + 1:b * data.batch_size)
        push!(parts, selectdim(out, ndims(out), 1:keep))
    end
    return cat(parts...; dims=ndims(parts[1]))
end
predict(model::FeedForward, data::AbstractArray; batch_size::Integer=128) =
    predict(model, ArrayDataProvider(data; batch_size=batch_size))
