package io.raftcached.raft;

import com.alipay.remoting.CustomSerializerManager;
import com.alipay.remoting.DefaultCustomSerializer;
import com.alipay.remoting.InvokeContext;
import com.alipay.remoting.exception.DeserializationException;
import com.alipay.remoting.exception.SerializationException;
import com.alipay.remoting.rpc.RequestCommand;
import com.alipay.remoting.rpc.ResponseCommand;
import com.alipay.remoting.rpc.protocol.RpcRequestCommand;
import com.alipay.remoting.rpc.protocol.RpcResponseCommand;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bolt serialization for raftcached's own protobuf RPC messages. jraft's protobuf serializer only
 * knows jraft's messages (its raft.desc), so ours are registered here, class by class: plain
 * {@code toByteArray} out, the message's parser in, sharing bolt's array.
 */
final class ProtoSerializer extends DefaultCustomSerializer {
    private static final Map<String, Parser<? extends Message>> PARSERS = new ConcurrentHashMap<>();
    private static final ProtoSerializer INSTANCE = new ProtoSerializer();

    private ProtoSerializer() {}

    /** Registers a message type for requests and responses; safe to call more than once. */
    static void register(Message defaultInstance) {
        String name = defaultInstance.getClass().getName();
        if (PARSERS.putIfAbsent(name, defaultInstance.getParserForType()) == null) {
            CustomSerializerManager.registerCustomSerializer(name, INSTANCE);
        }
    }

    private static Object parse(String className, byte[] content) throws DeserializationException {
        Parser<? extends Message> parser = PARSERS.get(className);
        if (parser == null) {
            throw new DeserializationException("unregistered message " + className);
        }
        try {
            // Bolt hands over null for an empty message.
            if (content == null) {
                return parser.parseFrom(new byte[0]);
            }
            // Bolt reads each message into an array of its own and keeps it until the request is
            // answered: the message's bytes fields (a forwarded batch) share that array instead of
            // holding a second copy of it.
            CodedInputStream input = CodedInputStream.newInstance(content);
            input.enableAliasing(true);
            Message message = parser.parseFrom(input);
            input.checkLastTagWas(0);
            return message;
        } catch (InvalidProtocolBufferException e) {
            throw new DeserializationException("bad " + className + ": " + e.getMessage());
        }
    }

    @Override
    public <T extends RequestCommand> boolean serializeContent(T request, InvokeContext context)
            throws SerializationException {
        RpcRequestCommand command = (RpcRequestCommand) request;
        command.setContent(((Message) command.getRequestObject()).toByteArray());
        return true;
    }

    @Override
    public <T extends ResponseCommand> boolean serializeContent(T response) throws SerializationException {
        RpcResponseCommand command = (RpcResponseCommand) response;
        command.setContent(((Message) command.getResponseObject()).toByteArray());
        return true;
    }

    @Override
    public <T extends RequestCommand> boolean deserializeContent(T request) throws DeserializationException {
        RpcRequestCommand command = (RpcRequestCommand) request;
        command.setRequestObject(parse(command.getRequestClass(), command.getContent()));
        return true;
    }

    @Override
    public <T extends ResponseCommand> boolean deserializeContent(T response, InvokeContext context)
            throws DeserializationException {
        RpcResponseCommand command = (RpcResponseCommand) response;
        command.setResponseObject(parse(command.getResponseClass(), command.getContent()));
        return true;
    }
}
