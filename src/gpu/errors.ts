// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * Errors thrown by the WebGPU runtime. Every failure on the GPU side becomes
 * one of these (or a `TypeError`/`RangeError` for bad arguments): nothing is
 * ever silently dropped.
 *
 * @module
 */

/** One message of a shader's compilation info, with its position. */
export interface WgslMessage {
  /** `"error"`, `"warning"` or `"info"`. */
  type: GPUCompilationMessageType;
  /** 1-based line in the WGSL source (0 when unknown). */
  line: number;
  /** 1-based column in the WGSL source (0 when unknown). */
  column: number;
  /** The compiler's text. */
  message: string;
}

/**
 * A WGSL shader failed to compile. The message lists every error of
 * `GPUShaderModule.getCompilationInfo()` as `label:line:column: text`,
 * followed by the offending source line.
 *
 * @example Inspecting the messages
 * ```ts
 * import { WgslCompileError } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const e = new WgslCompileError("post", "let x: f32 = 1u;", [
 *   { type: "error", line: 1, column: 5, message: "type mismatch" },
 * ]);
 * assertEquals(e.messages[0].line, 1);
 * ```
 */
export class WgslCompileError extends Error {
  /** Label of the shader that failed. */
  readonly label: string;
  /** Every error and warning the compiler reported. */
  readonly messages: readonly WgslMessage[];

  /**
   * Builds the error from a shader's compilation messages.
   *
   * @param label Label of the shader.
   * @param code The WGSL source that was compiled.
   * @param messages The compiler's messages.
   */
  constructor(label: string, code: string, messages: WgslMessage[]) {
    const lines = code.split("\n");
    const errors = messages.filter((m) => m.type === "error");
    const text = errors.map((m) => {
      const src = m.line > 0 ? lines[m.line - 1] ?? "" : "";
      const first = m.message.trim().split("\n")[0];
      return `  ${label}:${m.line}:${m.column}: ${first}` +
        (src ? `\n    | ${src.trim()}` : "");
    }).join("\n");
    super(
      `WGSL shader "${label}" failed to compile (${errors.length} error${
        errors.length === 1 ? "" : "s"
      }):\n${text}`,
    );
    this.name = "WgslCompileError";
    this.label = label;
    this.messages = messages;
  }
}

/** What went wrong on the GPU side. */
export type GpuErrorKind =
  | "no-webgpu"
  | "no-adapter"
  | "validation"
  | "out-of-memory"
  | "internal"
  | "device-lost"
  | "unsupported";

/**
 * A WebGPU failure: no WebGPU at all, no adapter, an error caught by an
 * error scope, a lost device, or a missing feature or limit.
 *
 * @example Telling a lost device from a validation error
 * ```ts
 * import { GpuError } from "@birkhoff/mhc";
 * import { assertEquals } from "@std/assert";
 *
 * const e = new GpuError("device-lost", "WebGPU device was lost");
 * assertEquals(e.kind, "device-lost");
 * ```
 */
export class GpuError extends Error {
  /** The category of the failure. */
  readonly kind: GpuErrorKind;

  /**
   * Builds the error.
   *
   * @param kind The category of the failure.
   * @param message A sentence saying what failed and, where known, why.
   * @param options Standard error options (`cause`).
   */
  constructor(kind: GpuErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GpuError";
    this.kind = kind;
  }
}
