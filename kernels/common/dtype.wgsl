// Storage element type. F16 kernels store activations and weights as f16; all arithmetic
// (accumulation, norm statistics, softmax) is done in f32 after loading.
#if F16
enable f16;
alias T = f16;
#else
alias T = f32;
#endif
