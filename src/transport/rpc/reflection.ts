import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import {
  ServerReflection as ReflectionV1,
  type ServerReflectionRequest,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1Alpha } from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** gRPC's NOT_FOUND, as the reflection protocol reports it inside a response. */
const NOT_FOUND = 5;

/**
 * gRPC server reflection (v1 and v1alpha) over the generated descriptors, so `buf curl`,
 * grpcurl and Postman can call the gateway without being given the schema. Each answer
 * carries the file and its transitive imports, as the protocol allows.
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const index = new ReflectionIndex([...services, ReflectionV1, ReflectionV1Alpha]);
  const impl = {
    async *serverReflectionInfo(requests: AsyncIterable<ServerReflectionRequest>, _ctx: HandlerContext) {
      for await (const request of requests) yield index.answer(request);
    },
  };
  router.service(ReflectionV1, impl);
  router.service(ReflectionV1Alpha, impl as never);
}

class ReflectionIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  private readonly serviceNames: string[];

  constructor(services: readonly DescService[]) {
    this.serviceNames = services.map((s) => s.typeName);
    for (const service of services) this.addFile(service.file);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.name)) return;
    this.files.set(file.name, file);
    for (const dep of file.dependencies) this.addFile(dep);
    const add = (name: string) => this.symbols.set(name, file);
    for (const m of file.messages) this.addMessage(m, add);
    for (const e of file.enums) add(e.typeName);
    for (const x of file.extensions) add(x.typeName);
    for (const s of file.services) {
      add(s.typeName);
      for (const method of s.methods) add(`${s.typeName}.${method.name}`);
    }
  }

  private addMessage(m: DescFile["messages"][number], add: (name: string) => void): void {
    add(m.typeName);
    for (const nested of m.nestedMessages) this.addMessage(nested, add);
    for (const e of m.nestedEnums) add(e.typeName);
  }

  /** The file and everything it imports, each once, the file itself first. */
  private closure(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  }

  answer(request: ServerReflectionRequest) {
    const base = { validHost: request.host, originalRequest: request };
    const req = request.messageRequest;
    const files = (file: DescFile | undefined, what: string) =>
      file
        ? { ...base, messageResponse: { case: "fileDescriptorResponse" as const, value: { fileDescriptorProto: this.closure(file) } } }
        : this.notFound(base, `${what} not found`);
    switch (req.case) {
      case "listServices":
        return {
          ...base,
          messageResponse: {
            case: "listServicesResponse" as const,
            value: { service: this.serviceNames.map((name) => ({ name })) },
          },
        };
      case "fileByFilename":
        return files(this.files.get(req.value), `file ${req.value}`);
      case "fileContainingSymbol":
        return files(this.symbols.get(req.value.replace(/^\./, "")), `symbol ${req.value}`);
      case "fileContainingExtension":
        return this.notFound(base, `extension ${req.value.extensionNumber} of ${req.value.containingType} not found`);
      case "allExtensionNumbersOfType":
        return {
          ...base,
          messageResponse: {
            case: "allExtensionNumbersResponse" as const,
            value: { baseTypeName: req.value, extensionNumber: [] },
          },
        };
      default:
        return this.notFound(base, "unsupported reflection request");
    }
  }

  private notFound(base: object, message: string) {
    return {
      ...base,
      messageResponse: { case: "errorResponse" as const, value: { errorCode: NOT_FOUND, errorMessage: message } },
    };
  }
}
