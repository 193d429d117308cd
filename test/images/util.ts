// Small helpers shared by the image-archive tests.
import tar from 'tar-stream';

export async function collect(stream: NodeJS.ReadableStream | AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** A tar of the given files, in insertion order. */
export async function packTar(files: Record<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  const done = collect(pack);
  for (const [name, data] of Object.entries(files)) pack.entry({ name, size: data.length, mtime: new Date(0) }, data);
  pack.finalize();
  return done;
}
