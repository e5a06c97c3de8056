using System.Reflection;
using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

/// <summary>
/// MoltBot.Inference (serving and training code) creates no TorchSharp Scalar implicitly, neither
/// itself nor through a TorchSharp method that does so inside (Tensor.add(Tensor) → alpha 1, square() → pow(2),
/// arange(n)): such a Scalar can be finalized while its native call still reads it (see LiveScalars). Checked on the
/// compiled IL, so a new <c>t + 1</c> or <c>a + b</c> in a model fails here instead of, rarely, in production.
/// </summary>
public class ScalarLifetimeTests
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance |
                                          BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Fact]
    public void Inference_and_training_code_create_no_implicit_scalars()
    {
        var creators = ImplicitScalarCreators();
        var offenders = Methods(typeof(RmsNorm).Assembly)
            .Select(m => (Method: m, Calls: Calls(m).Where(c => IsImplicit(c) || creators.Contains(Key(c)))
                // TorchScript invoke turns long/double arguments into Scalars inside TorchSharp; the callers pass those as Scalars
                // they keep alive instead, ints and bools by value (checked by the next test); this scan cannot tell them apart.
                .Where(c => c.Name != "invoke").ToList()))
            .Where(x => x.Calls.Count > 0)
            .Select(x => $"{x.Method.DeclaringType!.FullName}.{x.Method.Name} → {string.Join(", ", x.Calls.Select(c => c.DeclaringType!.Name + "." + c.Name))}")
            .ToList();
        Assert.True(offenders.Count == 0, "implicit Scalars in MoltBot.Inference:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void Compiled_graphs_get_their_numbers_as_live_scalars_not_boxed_numbers()
    {
        var callers = Methods(typeof(RmsNorm).Assembly)
            .Where(m => m.DeclaringType?.Namespace?.Contains(".Training", StringComparison.Ordinal) != true)
            .Where(m => Calls(m).Any(c => c.Name == "invoke" && c.DeclaringType?.Namespace == "TorchSharp"))
            .ToList();
        Assert.Contains(callers, m => m.DeclaringType == typeof(NluEncoder) && m.Name == "Invoke"); // shared by Predict and PredictProbabilities
        Assert.Contains(callers, m => m.DeclaringType == typeof(DecoderLM) && m.Name == nameof(DecoderLM.ForwardCached));
        var boxing = callers.Where(m => BoxedNumbers(m).Any()).Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToList();
        Assert.True(boxing.Count == 0, "boxed numbers passed to invoke: " + string.Join(", ", boxing));
        Assert.NotEmpty(BoxedNumbers(typeof(ScalarLifetimeTests).GetMethod(nameof(BoxesANumber), Declared)!)); // the check works
    }

    [Fact]
    public void The_check_finds_implicit_scalars_direct_and_inside_TorchSharp()
    {
        var creators = ImplicitScalarCreators();
        bool Flags(string method) => Calls(typeof(ScalarLifetimeTests).GetMethod(method, Declared)!)
            .Any(c => IsImplicit(c) || creators.Contains(Key(c)));

        Assert.True(Flags(nameof(AddsANumber)));
        Assert.True(Flags(nameof(AddsTwoTensors)));
        Assert.True(Flags(nameof(Squares)));
        Assert.False(Flags(nameof(AddsWithLiveScalars)));
    }

    [Fact]
    public void Live_scalar_helpers_compute_what_the_operators_do()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 1f, 2f, 3f });
        var b = tensor(new[] { 10f, 20f, 30f });
        Assert.Equal(new[] { 11f, 22f, 33f }, a.Plus(b).data<float>().ToArray());
        Assert.Equal(new long[] { 0, 1, 2, 3 }, LiveScalars.Arange(4).data<long>().ToArray());
        Assert.Equal(ScalarType.Float64, LiveScalars.Arange(3, dtype: ScalarType.Float64).dtype);
    }

    private static object[] BoxesANumber(Tensor t, long n) => [t, n];
    private static Tensor AddsANumber(Tensor t) => t + 1;
    private static Tensor AddsTwoTensors(Tensor a, Tensor b) => a + b;
    private static Tensor Squares(Tensor t) => t.square();
    private static Tensor AddsWithLiveScalars(Tensor a, Tensor b) => a.Plus(b);

    /// <summary>TorchSharp methods that call Scalar.op_Implicit, directly or through each other (fixed point).</summary>
    private static HashSet<string> ImplicitScalarCreators()
    {
        var methods = Methods(typeof(Scalar).Assembly).Select(m => (Method: m, Calls: Calls(m).ToList())).ToList();
        var creators = new HashSet<string>();
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var (m, calls) in methods)
            {
                if (!creators.Contains(Key(m)) && calls.Any(c => IsImplicit(c) || creators.Contains(Key(c))))
                    changed = creators.Add(Key(m));
            }
        }
        return creators;
    }

    private static bool IsImplicit(MethodBase m) => m.DeclaringType == typeof(Scalar) && m.Name == "op_Implicit";

    private static string Key(MethodBase m) => m.Module.FullyQualifiedName + ":" + m.MetadataToken;

    private static IEnumerable<MethodBase> Methods(Assembly assembly)
    {
        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException ex) { types = ex.Types.Where(t => t is not null).ToArray()!; }
        return types.SelectMany(t => t.GetMethods(Declared).Cast<MethodBase>().Concat(t.GetConstructors(Declared)));
    }

    /// <summary>
    /// long/double/float values boxed (<c>box</c>) by <paramref name="method"/>'s IL: the types invoke turns into temporary
    /// Scalars (TorchSharp 0.107's DetermineArgumentTypeRefs passes int and bool by value).
    /// </summary>
    private static IEnumerable<Type> BoxedNumbers(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        var type = method.DeclaringType!;
        for (int i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] != 0x8C) continue; // box
            Type? boxed = null;
            try
            {
                boxed = method.Module.ResolveType(BitConverter.ToInt32(il, i + 1),
                    type.IsGenericType ? type.GetGenericArguments() : null, method.IsGenericMethod ? method.GetGenericArguments() : null);
            }
            catch (ArgumentException)
            {
                // a byte that only looked like the opcode
            }
            if (boxed is not null && (boxed == typeof(long) || boxed == typeof(double) || boxed == typeof(float)))
                yield return boxed;
        }
    }

    /// <summary>Methods called (call, callvirt, newobj) by <paramref name="method"/>'s IL.</summary>
    private static IEnumerable<MethodBase> Calls(MethodBase method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception e) when (e is BadImageFormatException or TypeLoadException or FileNotFoundException) { yield break; }
        if (il is null) yield break;
        var type = method.DeclaringType!;
        for (int i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] is not (0x28 or 0x6F or 0x73)) continue; // call, callvirt, newobj
            int token = BitConverter.ToInt32(il, i + 1);
            if ((uint)token >> 24 is not (0x0A or 0x06 or 0x2B)) continue; // MemberRef, MethodDef, MethodSpec
            MethodBase? target = null;
            try
            {
                target = method.Module.ResolveMethod(token, type.IsGenericType ? type.GetGenericArguments() : null,
                    method.IsGenericMethod ? method.GetGenericArguments() : null);
            }
            catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or FileNotFoundException)
            {
                // a byte that only looked like a call opcode (an operand of another instruction)
            }
            if (target is not null) yield return target;
        }
    }
}
