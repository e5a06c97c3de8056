using Microsoft.Extensions.Options;

namespace MoltBot.Inference;

// The [Range]/[Required]/[RegularExpression] rules of this module's options (and IValidatableObject), checked by code
// the options source generator writes at build time instead of DataAnnotations' reflection over every property at
// start-up (docs/performance.md, "Cold start, session 2026-11-24 evening"). Same rules, same messages.

[OptionsValidator]
internal sealed partial class InferenceOptionsAnnotations : IValidateOptions<InferenceOptions>;
