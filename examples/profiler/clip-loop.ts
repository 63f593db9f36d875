/**
 * How long the page's clip plays by itself. The frames canvas (a frame every 125 ms) and the looping MP4 player
 * play for `playMs` after a new clip, or after the user last pointed at or focused the frames (or came back to the
 * tab), then stop on the frame they show; pointing at them again plays them on. A page left open (a profiler run
 * in another tab, a test's later cases) otherwise kept redrawing both: ~8 % of a core in Chromium for as long as it
 * stayed open. Also the WCAG 2.2.2 rule for motion that starts by itself: it stops on its own.
 *
 * A video the user paused stays paused: only one this loop paused is played again.
 */

/** What the loop needs of the `<video>`: HTMLVideoElement's `paused`, `play()` and `pause()`. */
export interface Playable {
  readonly paused: boolean;
  play(): Promise<void> | void;
  pause(): void;
}

/** How long (ms) the clip plays after a new clip or the user's last look at it. */
export const CLIP_PLAY_MS = 20_000;

export class ClipLoop {
  private frameTimer: ReturnType<typeof setInterval> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private step: (() => void) | null = null;
  /** The video was playing when this loop stopped it (so waking plays it again). */
  private videoStopped = false;
  /** Whether the clip is playing now (false before the first clip and once stopped). */
  playing = false;

  /**
   * @param video the clip's player, or null where there is none
   * @param playMs how long the clip plays after a new clip or `wake()`, in ms (> 0)
   * @param frameMs the canvas's frame interval in ms (125: 8 fps)
   */
  constructor(
    private readonly video: Playable | null,
    private readonly playMs = CLIP_PLAY_MS,
    private readonly frameMs = 125,
  ) {
    if (!(playMs > 0) || !(frameMs > 0)) throw new Error(`ClipLoop: playMs and frameMs must be > 0 (got ${playMs}, ${frameMs})`);
  }

  /** A new clip: `step` draws its next frame (null: one frame, nothing to animate); it plays for `playMs`. */
  start(step: (() => void) | null): void {
    this.halt();
    this.step = step;
    this.videoStopped = false;
    this.wake();
  }

  /** The user looked at the clip (pointer, focus, the tab shown again), or its video got a new source: play on for `playMs` more. */
  wake(): void {
    clearTimeout(this.idleTimer);
    if (this.step && this.frameTimer === undefined) this.frameTimer = setInterval(this.step, this.frameMs);
    if (this.videoStopped && this.video) {
      this.videoStopped = false;
      void Promise.resolve(this.video.play()).catch(() => undefined);
    }
    this.idleTimer = setTimeout(() => this.stop(), this.playMs);
    this.playing = true;
  }

  /** Stops both on the frame they show (the video only if it plays: one the user paused is left to the user). */
  stop(): void {
    this.halt();
    if (this.video && !this.video.paused) {
      this.video.pause();
      this.videoStopped = true;
    }
  }

  private halt(): void {
    clearInterval(this.frameTimer);
    clearTimeout(this.idleTimer);
    this.frameTimer = undefined;
    this.idleTimer = undefined;
    this.playing = false;
  }
}
