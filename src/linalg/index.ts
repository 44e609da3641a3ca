/** The numeric core: dense kernels on row-major Float64Array. Everyone uses it; nobody copies it. */
export * from './matrix.js';
export * from './blas.js';
export * from './cholesky.js';
export * from './eigen.js';
export * from './svd.js';
export * from './truncated.js';
export * from './blockedCholesky.js';
export * from './distance.js';
export * from './stats.js';
export * from './centered.js';
export * from './columnStats.js';
export * from './cg.js';
export * from './select.js';
export * from './groupStats.js';
export * from './backend.js';
export * from './apKernel.js';
export * from './softAssign.js';
